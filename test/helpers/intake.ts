/**
 * Alert payloads shaped like the vendors' published examples (Alertmanager's webhook_config body,
 * PagerDuty's Events API v2 "trigger" example), and senders that sign or authenticate them the
 * way a real source would: bearer secret, Firebreak HMAC signature, or PagerDuty routing key.
 */
import http from 'node:http';
import { signBody } from '../../api/intake-auth';

export function alertmanagerBody(
  alerts: { fingerprint: string; status?: 'firing' | 'resolved'; labels?: Record<string, string> }[],
  top: { groupKey?: string; status?: 'firing' | 'resolved' } = {},
) {
  return {
    version: '4',
    groupKey: top.groupKey ?? '{}/{severity="critical"}:{alertname="AgentTokenExfiltration"}',
    truncatedAlerts: 0,
    status: top.status ?? 'firing',
    receiver: 'firebreak',
    groupLabels: { alertname: 'AgentTokenExfiltration' },
    commonLabels: { alertname: 'AgentTokenExfiltration', severity: 'critical', job: 'agent-gateway' },
    commonAnnotations: { runbook_url: 'https://runbooks.example.com/agent-token-exfiltration' },
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: alerts.map((a) => ({
      status: a.status ?? 'firing',
      labels: {
        alertname: 'AgentTokenExfiltration',
        severity: 'critical',
        instance: 'gateway-1:9100',
        job: 'agent-gateway',
        ...a.labels,
      },
      annotations: {
        summary: 'Agent sent a credential to an unknown host',
        description: 'egress of sk-… token',
      },
      startsAt: '2026-11-21T22:58:31.123456789Z',
      endsAt: a.status === 'resolved' ? '2026-11-21T23:10:00Z' : '0001-01-01T00:00:00Z',
      generatorURL:
        'http://prometheus.example.com:9090/graph?g0.expr=agent_egress_secret_total+%3E+0&g0.tab=1',
      fingerprint: a.fingerprint,
    })),
  };
}

/** PagerDuty's documented example event, with our agent in custom_details. */
export function pagerdutyEvent(
  routingKey: string,
  over: { event_action?: 'trigger' | 'acknowledge' | 'resolve'; dedup_key?: string; severity?: string } = {},
) {
  return {
    routing_key: routingKey,
    event_action: over.event_action ?? 'trigger',
    ...(over.dedup_key ? { dedup_key: over.dedup_key } : {}),
    payload: {
      summary: 'Agent agent-42 disabled its own audit logging on prod-datapipe03.example.com',
      timestamp: '2015-07-17T08:42:58.315+0000',
      source: 'prod-datapipe03.example.com',
      severity: over.severity ?? 'error',
      component: 'audit-log',
      group: 'prod-datapipe',
      class: 'policy violation',
      custom_details: { agent_id: 'agent-42', 'free space': '1%', 'ping time': '1500ms' },
    },
    images: [
      {
        src: 'https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png',
        href: 'https://example.com/',
        alt: 'Example text',
      },
    ],
    links: [{ href: 'https://example.com/', text: 'Link text' }],
    client: 'Sample Monitoring Service',
    client_url: 'https://monitoring.example.com',
  };
}

export function signatureHeader(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${signBody(secret, t, body)}`;
}

/** POST a JSON body with the given extra headers; returns status and parsed JSON (or text). */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: raw,
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/**
 * POST over a fresh connection with node:http, returning the status even when the server answers
 * early and closes while the body is still being sent (as a 413 does); fetch reports that as a
 * network error and would reuse the closed socket.
 */
export function rawPost(
  url: string,
  headers: Record<string, string>,
  write: (req: http.ClientRequest) => void,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    write(req);
  });
}
