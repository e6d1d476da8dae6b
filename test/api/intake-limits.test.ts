import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { countAlerts } from '../../db/incident-alerts';
import { alertmanagerBody, pagerdutyEvent, post, rawPost } from '../helpers/intake';
import { startTestStack, TEST_WEBHOOK_SECRET, type TestStack } from '../helpers/stack';

const SLOW = 'slow-source-secret-0123456789';
const fileConfig = parseFileConfig(
  { sources: [{ id: 'slow', secret: SLOW, rate_limit: { per_second: 0.5, burst: 3 } }] },
  {},
  'test config',
);

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, fileConfig });
});
afterAll(async () => {
  await stack?.close();
});

const auth = { authorization: `Bearer ${TEST_WEBHOOK_SECRET}` };
const generic = {
  title: 'Agent escalated privileges',
  severity: 'critical',
  source: 'iam',
  dedup_key: 'lim-1',
};
const stored = () => countAlerts(stack.db);

describe('body size', () => {
  it('refuses a body over 1 MiB with 413 before authenticating or storing it', async () => {
    const before = await stored();
    const big = JSON.stringify({ ...generic, details: { blob: 'x'.repeat(1024 * 1024) } });
    for (const path of ['/v1/alerts', '/v1/alerts/alertmanager', '/v1/alerts/pagerduty']) {
      const headers = {
        ...auth,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(big)),
      };
      const res = await rawPost(`${stack.url}${path}`, headers, (req) => req.end(big));
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body).error.code).toBe('payload_too_large');
    }
    expect(await stored()).toBe(before);
  });

  it('refuses an oversized chunked body that declares no content-length', async () => {
    const headers = { ...auth, 'content-type': 'application/json', 'transfer-encoding': 'chunked' };
    const res = await rawPost(`${stack.url}/v1/alerts`, headers, (req) => {
      const chunk = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 20; i++) req.write(chunk);
      req.end();
    });
    expect(res.status).toBe(413);
  });

  it('accepts a body just under the limit', async () => {
    const details = { blob: 'y'.repeat(1024 * 1024 - 400) };
    const res = await post(`${stack.url}/v1/alerts`, { ...generic, dedup_key: 'near-limit', details }, auth);
    expect(res.status).toBe(202);
  });
});

describe('per-source rate limit', () => {
  it('answers 429 with Retry-After once a source spends its burst, without affecting other sources', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await post(
        `${stack.url}/v1/alerts`,
        { ...generic, dedup_key: `rl-${i}` },
        { authorization: `Bearer ${SLOW}` },
      );
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect(res.json.error.code).toBe('rate_limited');
      }
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await post(`${stack.url}/v1/alerts`, { ...generic, dedup_key: 'rl-other' }, auth)).status).toBe(
      202,
    );
  });
});

describe('bad input is a 400 naming the field, never a 5xx', () => {
  const cases: [string, string, unknown, string][] = [
    ['generic: unknown severity', '/v1/alerts', { ...generic, severity: 'urgent' }, 'severity'],
    ['generic: missing title', '/v1/alerts', { severity: 'low', source: 'x' }, 'title'],
    ['generic: label that is not a string', '/v1/alerts', { ...generic, labels: { a: 1 } }, 'labels.a'],
    [
      'alertmanager: wrong version',
      '/v1/alerts/alertmanager',
      { ...alertmanagerBody([{ fingerprint: 'a' }]), version: '3' },
      'version',
    ],
    [
      'alertmanager: alert without fingerprint',
      '/v1/alerts/alertmanager',
      (() => {
        const b = alertmanagerBody([{ fingerprint: 'a' }]);
        delete (b.alerts[0] as Partial<(typeof b.alerts)[0]>).fingerprint;
        return b;
      })(),
      'alerts.0.fingerprint',
    ],
    [
      'alertmanager: empty batch',
      '/v1/alerts/alertmanager',
      { ...alertmanagerBody([]), alerts: [] },
      'alerts',
    ],
    [
      'pagerduty: unknown severity',
      '/v1/alerts/pagerduty',
      { ...pagerdutyEvent('k'), payload: { ...pagerdutyEvent('k').payload, severity: 'urgent' } },
      'payload.severity',
    ],
    [
      'pagerduty: trigger without payload',
      '/v1/alerts/pagerduty',
      { routing_key: 'k', event_action: 'trigger' },
      'payload',
    ],
    [
      'pagerduty: resolve without dedup_key',
      '/v1/alerts/pagerduty',
      { routing_key: 'k', event_action: 'resolve' },
      'dedup_key',
    ],
  ];
  for (const [name, path, body, field] of cases) {
    it(`rejects ${name}`, async () => {
      const res = await post(`${stack.url}${path}`, body, auth);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'invalid_request', field });
    });
  }

  it('rejects malformed JSON on every endpoint with 400 invalid_json', async () => {
    for (const path of ['/v1/alerts', '/v1/alerts/alertmanager', '/v1/alerts/pagerduty']) {
      const res = await post(`${stack.url}${path}`, '{"title":', auth);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('invalid_json');
    }
  });

  it('answers garbage of every shape with a 4xx', async () => {
    const garbage: (string | Uint8Array)[] = [
      '',
      'null',
      '[]',
      '"text"',
      '12345678901234567890123456789',
      '{"alerts":null,"version":"4"}',
      '{"title":{"$gt":""},"severity":"low","source":"x"}',
      '['.repeat(5000) + ']'.repeat(5000),
      new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    ];
    for (const path of ['/v1/alerts', '/v1/alerts/alertmanager', '/v1/alerts/pagerduty']) {
      for (const body of garbage) {
        const res = await fetch(`${stack.url}${path}`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body,
        });
        expect(res.status, `${path} ${String(body).slice(0, 30)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${path} ${String(body).slice(0, 30)}`).toBeLessThan(500);
      }
    }
    const proto = '{"__proto__":{"polluted":true},"title":"t","severity":"low","source":"s"}';
    expect((await post(`${stack.url}/v1/alerts`, proto, auth)).status).toBe(202);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
