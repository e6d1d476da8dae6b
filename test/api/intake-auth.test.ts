import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app';
import { IntakeMetrics } from '../../api/intake-metrics';
import { parseFileConfig } from '../../app/config-file';
import { closeDb, dbFile, openDb } from '../../db/client';
import { countAlerts } from '../../db/incident-alerts';
import { countIncidents } from '../../db/incidents';
import { countSeenSignatures } from '../../db/seen-signatures';
import { alertmanagerBody, pagerdutyEvent, signatureHeader } from '../helpers/intake';
import { startTestStack, TEST_ADMIN_TOKEN, TEST_WEBHOOK_SECRET, type TestStack } from '../helpers/stack';

const PROM_SECRET = 'prom-secret-from-env-0123456789';
const PD_KEY = 'R0UTINGKEY0123456789abcdef012345';
const STRICT_SECRET = 'strict-source-secret-0123456789';
const fileConfig = parseFileConfig(
  {
    sources: [
      { id: 'prometheus', secret_env: 'PROM_SECRET' },
      { id: 'pagerduty', routing_key: PD_KEY },
      { id: 'strict', secret: STRICT_SECRET, require_signature: true },
    ],
  },
  { PROM_SECRET },
  'test config',
);

let stack: TestStack;
let app: App;
const logLines: string[] = [];
const metrics = new IntakeMetrics();
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  app = createApp({ ...stack, log, fileConfig, metrics });
});
afterAll(async () => {
  await stack?.close();
});

const generic = {
  title: 'Prompt injection detected',
  severity: 'high',
  source: 'guardrail',
  dedup_key: 'pi-1',
};
const stored = () => countAlerts(stack.db);

async function send(path: string, body: unknown, headers: Record<string, string>, via: App = app) {
  const res = await via.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('accepted credentials', () => {
  it('accepts the default source by bearer secret and a file source whose secret comes from secret_env', async () => {
    expect(
      (await send('/v1/alerts', generic, { authorization: `Bearer ${TEST_WEBHOOK_SECRET}` })).status,
    ).toBe(202);
    const res = await send('/v1/alerts/alertmanager', alertmanagerBody([{ fingerprint: 'aa01' }]), {
      authorization: `Bearer ${PROM_SECRET}`,
    });
    expect(res.status).toBe(202);
    expect(metrics.accepted).toMatchObject({ default: 1, prometheus: 1 });
  });

  it('accepts an HMAC signature over the raw body, from any configured source', async () => {
    const raw = JSON.stringify({ ...generic, dedup_key: 'signed' });
    const res = await send('/v1/alerts', raw, { 'x-firebreak-signature': signatureHeader(PROM_SECRET, raw) });
    expect(res.status).toBe(202);
    expect(metrics.accepted['prometheus']).toBe(2);
  });

  it('accepts a signature at the edge of the ±300 s window', async () => {
    const raw = JSON.stringify({ ...generic, dedup_key: 'edge' });
    const t = Math.floor(Date.now() / 1000) - 290;
    expect(
      (await send('/v1/alerts', raw, { 'x-firebreak-signature': signatureHeader(PROM_SECRET, raw, t) }))
        .status,
    ).toBe(202);
  });

  it('accepts a PagerDuty event authenticated only by its routing_key', async () => {
    const res = await send('/v1/alerts/pagerduty', pagerdutyEvent(PD_KEY), {});
    expect(res.status).toBe(202);
    expect(metrics.accepted['pagerduty']).toBe(1);
  });
});

describe('rejected credentials: 401, nothing stored, failure counted and logged without the secret', () => {
  const cases: [string, string, () => { body: unknown; headers: Record<string, string> }, string][] = [
    ['no credentials', '/v1/alerts', () => ({ body: generic, headers: {} }), 'missing_credentials'],
    [
      'a wrong bearer secret',
      '/v1/alerts',
      () => ({ body: generic, headers: { authorization: 'Bearer not-the-secret-0123456789' } }),
      'bad_bearer',
    ],
    [
      'the admin token as a source secret',
      '/v1/alerts',
      () => ({ body: generic, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }),
      'bad_bearer',
    ],
    [
      'Basic auth',
      '/v1/alerts',
      () => ({ body: generic, headers: { authorization: `Basic ${TEST_WEBHOOK_SECRET}` } }),
      'bad_bearer',
    ],
    [
      'a replayed signature (timestamp 10 minutes old)',
      '/v1/alerts',
      () => {
        const raw = JSON.stringify(generic);
        return {
          body: raw,
          headers: {
            'x-firebreak-signature': signatureHeader(PROM_SECRET, raw, Math.floor(Date.now() / 1000) - 600),
          },
        };
      },
      'stale_timestamp',
    ],
    [
      'a signature dated 10 minutes in the future',
      '/v1/alerts',
      () => {
        const raw = JSON.stringify(generic);
        return {
          body: raw,
          headers: {
            'x-firebreak-signature': signatureHeader(PROM_SECRET, raw, Math.floor(Date.now() / 1000) + 600),
          },
        };
      },
      'stale_timestamp',
    ],
    [
      'a signature made with the wrong secret',
      '/v1/alerts',
      () => {
        const raw = JSON.stringify(generic);
        return {
          body: raw,
          headers: { 'x-firebreak-signature': signatureHeader('some-other-secret-0123456789', raw) },
        };
      },
      'bad_signature',
    ],
    [
      'a valid signature over a different body',
      '/v1/alerts',
      () => {
        const signed = JSON.stringify(generic);
        const sent = JSON.stringify({ ...generic, severity: 'info' });
        return { body: sent, headers: { 'x-firebreak-signature': signatureHeader(PROM_SECRET, signed) } };
      },
      'bad_signature',
    ],
    [
      'a signature over the same JSON re-serialized with different whitespace',
      '/v1/alerts',
      () => {
        const signed = JSON.stringify(generic);
        return {
          body: JSON.stringify(generic, null, 2),
          headers: { 'x-firebreak-signature': signatureHeader(PROM_SECRET, signed) },
        };
      },
      'bad_signature',
    ],
    [
      'a malformed signature header',
      '/v1/alerts',
      () => ({ body: generic, headers: { 'x-firebreak-signature': 'v1=abc' } }),
      'malformed_signature',
    ],
    [
      'a wrong PagerDuty routing key',
      '/v1/alerts/pagerduty',
      () => ({ body: pagerdutyEvent('WRONGKEY0123456789abcdef01234567'), headers: {} }),
      'bad_routing_key',
    ],
    [
      'a valid routing key on the generic endpoint',
      '/v1/alerts',
      () => ({ body: { ...generic, routing_key: PD_KEY }, headers: {} }),
      'missing_credentials',
    ],
    [
      'a valid routing key with a wrong bearer header',
      '/v1/alerts/pagerduty',
      () => ({
        body: pagerdutyEvent(PD_KEY),
        headers: { authorization: 'Bearer not-the-secret-0123456789' },
      }),
      'bad_bearer',
    ],
  ];

  for (const [name, path, make, reason] of cases) {
    it(`rejects ${name}`, async () => {
      const before = await stored();
      const failures = metrics.authFailures[reason as keyof IntakeMetrics['authFailures']];
      const { body, headers } = make();
      const res = await send(path, body, headers);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(await stored()).toBe(before);
      expect(metrics.authFailures[reason as keyof IntakeMetrics['authFailures']]).toBe(failures + 1);
      const last = logLines[logLines.length - 1]!;
      expect(JSON.parse(last)).toMatchObject({ reason, msg: 'alert rejected: authentication failed' });
    });
  }

  it('never writes a secret, routing key or signature to the log or an error body', () => {
    const all = logLines.join('\n');
    for (const secret of [TEST_WEBHOOK_SECRET, PROM_SECRET, PD_KEY, TEST_ADMIN_TOKEN, 'not-the-secret']) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('a signed alert is accepted once', () => {
  const incidentCount = () => countIncidents(stack.db);

  it('refuses the same signed request a second and third time with 409, storing nothing', async () => {
    const raw = JSON.stringify({ ...generic, dedup_key: 'replay-1', agent_id: 'agent-7' });
    const t = Math.floor(Date.now() / 1000);
    const header = signatureHeader(PROM_SECRET, raw, t);
    const first = await send('/v1/alerts', raw, { 'x-firebreak-signature': header });
    expect(first.status).toBe(202);
    const [before, incidentsBefore] = [await stored(), await incidentCount()];
    const replays = metrics.authFailures.replayed_signature;
    for (let i = 0; i < 2; i++) {
      const again = await send('/v1/alerts', raw, { 'x-firebreak-signature': header });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('replayed_signature');
      expect(again.body.error.message).toMatch(/already accepted at \d{4}-\d\d-\d\dT/);
    }
    expect([await stored(), await incidentCount()]).toEqual([before, incidentsBefore]);
    expect(metrics.authFailures.replayed_signature).toBe(replays + 2);
    expect(JSON.parse(logLines[logLines.length - 1]!)).toMatchObject({
      reason: 'replayed_signature',
      source: 'prometheus',
    });
    // The same body signed anew (another t) is a new delivery, and is accepted.
    const resigned = await send('/v1/alerts', raw, {
      'x-firebreak-signature': signatureHeader(PROM_SECRET, raw, t - 1),
    });
    expect(resigned.status).toBe(202);
  });

  it('lets exactly one of several identical signed requests in flight through', async () => {
    const raw = JSON.stringify({ ...generic, dedup_key: 'replay-race' });
    const header = signatureHeader(PROM_SECRET, raw);
    const before = await stored();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => send('/v1/alerts', raw, { 'x-firebreak-signature': header })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409, 409]);
    expect(await stored()).toBe(before + 1);
  });

  it('still refuses the replay after a restart: the signatures seen are in the database', async () => {
    const raw = JSON.stringify({ ...generic, dedup_key: 'replay-restart' });
    const header = signatureHeader(PROM_SECRET, raw);
    expect((await send('/v1/alerts', raw, { 'x-firebreak-signature': header })).status).toBe(202);
    // A fresh process: its own connection and app, nothing in memory from the first.
    const db = openDb(dbFile(stack.dataDir));
    try {
      const restarted = createApp({ ...stack, db, log: pino({ level: 'silent' }), fileConfig });
      const replay = await send('/v1/alerts', raw, { 'x-firebreak-signature': header }, restarted);
      expect(replay.status).toBe(409);
      expect(replay.body.error.code).toBe('replayed_signature');
    } finally {
      await closeDb(db);
    }
    expect(await countSeenSignatures(stack.db)).toBeGreaterThan(0);
  });
});

describe('a source that requires signatures', () => {
  it('accepts its signature', async () => {
    const raw = JSON.stringify({ ...generic, dedup_key: 'strict-signed' });
    const res = await send('/v1/alerts', raw, {
      'x-firebreak-signature': signatureHeader(STRICT_SECRET, raw),
    });
    expect(res.status).toBe(202);
    expect(metrics.accepted['strict']).toBe(1);
  });

  for (const [name, path, make] of [
    [
      'its secret as a bearer token',
      '/v1/alerts',
      () => ({ body: generic, headers: { authorization: `Bearer ${STRICT_SECRET}` } }),
    ],
    [
      'its secret as a PagerDuty routing key',
      '/v1/alerts/pagerduty',
      () => ({ body: pagerdutyEvent(STRICT_SECRET), headers: {} }),
    ],
  ] as const) {
    it(`refuses ${name} with 401 signature_required`, async () => {
      const before = await stored();
      const failures = metrics.authFailures.signature_required;
      const { body, headers } = make();
      const res = await send(path, body, headers);
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ code: 'signature_required' });
      expect(res.body.error.message).toMatch(/source strict accepts only X-Firebreak-Signature/);
      expect(await stored()).toBe(before);
      expect(metrics.authFailures.signature_required).toBe(failures + 1);
      expect(JSON.parse(logLines[logLines.length - 1]!)).toMatchObject({
        reason: 'signature_required',
        source: 'strict',
      });
    });
  }

  it('is a config error without a secret to sign with', () => {
    expect(() =>
      parseFileConfig(
        { sources: [{ id: 'pd', routing_key: PD_KEY, require_signature: true }] },
        {},
        'test config',
      ),
    ).toThrow(/sources\.0\.require_signature: needs secret or secret_env/);
  });
});
