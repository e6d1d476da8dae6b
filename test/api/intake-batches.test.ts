/**
 * Bounded work per request: a source's rate limit counts alerts, not requests (one Alertmanager
 * batch cannot open more incidents than the limit allows); a request carries at most
 * max_alerts_per_request alerts; a batch's common labels and annotations are not copied into
 * every stored alert; deeply nested JSON and YAML alias bombs are 400s naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { alertsOfIncident } from '../../db/incident-alerts';
import { countIncidents } from '../../db/incidents';
import { MAX_JSON_DEPTH } from '../../domain/alert';
import { alertmanagerBody, pagerdutyEvent, post } from '../helpers/intake';
import {
  bearer,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';

const BATCHED = 'batched-source-secret-0123456789';
const PD_KEY = 'batch-routing-key-0123456789abcdef';
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    withWorker: false,
    fileConfig: parseFileConfig(
      {
        sources: [
          { id: 'batched', secret: BATCHED, rate_limit: { per_second: 0.001, burst: 10 } },
          { id: 'pd', routing_key: PD_KEY },
        ],
        max_alerts_per_request: 50,
      },
      {},
      'batch config',
    ),
  });
});
afterAll(async () => {
  await stack?.close();
});

const auth = (secret: string) => ({ authorization: `Bearer ${secret}` });
const fingerprints = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ fingerprint: `${prefix}-${i}` }));
const incidentCount = () => countIncidents(stack.db);

describe('alerts per request', () => {
  it('counts each alert of a batch against the source rate limit', async () => {
    const before = await incidentCount();
    const first = await post(
      `${stack.url}/v1/alerts/alertmanager`,
      alertmanagerBody(fingerprints('rl-a', 7)),
      auth(BATCHED),
    );
    expect(first.status).toBe(202);
    // 7 of the burst of 10 are spent: a second batch of 7 is over the limit, not one more request.
    const second = await post(
      `${stack.url}/v1/alerts/alertmanager`,
      alertmanagerBody(fingerprints('rl-b', 7)),
      auth(BATCHED),
    );
    expect(second.status).toBe(429);
    expect(second.json.error.code).toBe('rate_limited');
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await incidentCount()).toBe(before + 7);
    // What is left still admits a batch that fits.
    const third = await post(
      `${stack.url}/v1/alerts/alertmanager`,
      alertmanagerBody(fingerprints('rl-c', 3)),
      auth(BATCHED),
    );
    expect(third.status).toBe(202);
    expect(await incidentCount()).toBe(before + 10);
  });

  it('refuses more than max_alerts_per_request alerts in one request with 400 naming alerts', async () => {
    const before = await incidentCount();
    const res = await post(
      `${stack.url}/v1/alerts/alertmanager`,
      alertmanagerBody(fingerprints('cap', 200)),
      auth(TEST_WEBHOOK_SECRET),
    );
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'too_many_alerts', field: 'alerts' });
    expect(res.json.error.message).toContain('at most 50');
    expect(await incidentCount()).toBe(before);
    const ok = await post(
      `${stack.url}/v1/alerts/alertmanager`,
      alertmanagerBody(fingerprints('cap-ok', 50)),
      auth(TEST_WEBHOOK_SECRET),
    );
    expect(ok.status).toBe(202);
    expect(await incidentCount()).toBe(before + 50);
  });

  it('stores each alert with its own labels and annotations, not a copy of the common ones', async () => {
    const batch = alertmanagerBody(fingerprints('common', 40), { groupKey: '{}:{alertname="Big"}' });
    // Alertmanager repeats common annotations in every alert; a sender padding only the common
    // section must not multiply that padding by the number of alerts.
    const body = {
      ...batch,
      commonAnnotations: { ...batch.commonAnnotations, padding: 'p'.repeat(20_000) },
    };
    const raw = JSON.stringify(body);
    const res = await post(`${stack.url}/v1/alerts/alertmanager`, raw, auth(TEST_WEBHOOK_SECRET));
    expect(res.status).toBe(202);
    // The incidents the batch's alerts went to, in the order of the alerts; their stored alerts.
    const incidentIds = [
      ...new Set<string>(res.json.incidents.map((i: { incident_id: string }) => i.incident_id)),
    ];
    const rows = (await Promise.all(incidentIds.map((id) => alertsOfIncident(stack.db, id)))).flat();
    expect(rows).toHaveLength(40);
    // The columns hold JSON.stringify of these values (drizzle's json mode), so this is their size.
    const storedBytes = rows.reduce(
      (n, r) => n + JSON.stringify(r.labels).length + JSON.stringify(r.details).length,
      0,
    );
    expect(storedBytes).toBeLessThan(raw.length);
    const first = rows[0]!;
    expect(first.labels).toEqual(body.alerts[0]!.labels);
    expect(first.details.annotations).toEqual(body.alerts[0]!.annotations);
  });
});

/** `{"a":{"a":…{}}}` nested `depth` levels, as JSON text (JSON.stringify would recurse). */
function nested(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
}

/** `fields` as JSON with `key` set to the given JSON text. */
function withRaw(fields: Record<string, unknown>, key: string, rawJson: string): string {
  return `${JSON.stringify(fields).slice(0, -1)},${JSON.stringify(key)}:${rawJson}}`;
}

describe('nesting depth', () => {
  const generic = { title: 'Deep', severity: 'low', source: 'fuzz' };

  it('answers 400 naming details for depth 10,000 in a generic alert', async () => {
    const res = await post(
      `${stack.url}/v1/alerts`,
      withRaw(generic, 'details', nested(10_000)),
      auth(TEST_WEBHOOK_SECRET),
    );
    expect(res.status).toBe(400);
    expect(res.json.error.field).toBe('details');
  });

  it('accepts details nested up to the limit', async () => {
    const res = await post(
      `${stack.url}/v1/alerts`,
      withRaw({ ...generic, dedup_key: 'deep-ok' }, 'details', nested(MAX_JSON_DEPTH)),
      auth(TEST_WEBHOOK_SECRET),
    );
    expect(res.status).toBe(202);
  });

  it('answers 400 naming payload.custom_details for a deep PagerDuty event', async () => {
    const event = pagerdutyEvent(PD_KEY);
    const { custom_details: _, ...payload } = event.payload;
    const body = JSON.stringify({ ...event, payload: 'PAYLOAD' }).replace(
      '"PAYLOAD"',
      withRaw(payload, 'custom_details', nested(10_000)),
    );
    const res = await post(`${stack.url}/v1/alerts/pagerduty`, body);
    expect(res.status).toBe(400);
    expect(res.json.error.field).toBe('payload.custom_details');
  });
});

describe('POST /v1/drills', () => {
  const drill = (body: unknown) =>
    fetch(`${stack.url}/v1/drills`, {
      method: 'POST',
      headers: bearer(TEST_ADMIN_TOKEN),
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers 400 naming scenario_yaml for a YAML alias bomb', async () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const res = await drill({ scenario_yaml: lines.join('\n') });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.field).toBe('scenario_yaml');
  });

  it('answers 400 naming scenario_yaml for YAML nested past the depth limit', async () => {
    const res = await drill({ scenario_yaml: `playbook: ${nested(MAX_JSON_DEPTH + 10)}` });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatchObject({
      field: 'scenario_yaml',
      message: expect.stringContaining('nests deeper'),
    });
  });

  it('answers 400 naming scenario for a scenario nested 10,000 deep', async () => {
    const res = await drill(`{"scenario":${nested(10_000)}}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.field).toBe('scenario');
  });
});
