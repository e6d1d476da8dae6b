/**
 * Property-based fuzzing of the intake endpoints (fast-check): random and malformed bodies,
 * headers, encodings and sizes, sent both unauthenticated and with valid credentials (so the
 * parsers and normalizers behind auth are reached too). Every answer must be 2xx or 4xx, never
 * 5xx, and the server must keep answering.
 */
import fc from 'fast-check';
import '../helpers/fuzz-seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../api/intake-auth';
import { parseFileConfig } from '../../app/config-file';
import { alertmanagerBody, pagerdutyEvent } from '../helpers/intake';
import { startTestStack, TEST_WEBHOOK_SECRET, type TestStack } from '../helpers/stack';

const PD_KEY = 'fuzz-routing-key-0123456789abcdef';
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    withWorker: false,
    fileConfig: parseFileConfig(
      {
        sources: [{ id: 'pagerduty', routing_key: PD_KEY }],
        default_rate_limit: { per_second: 100_000, burst: 100_000 },
      },
      {},
      'fuzz config',
    ),
  });
});
afterAll(async () => {
  await stack?.close();
});

const paths = ['/v1/alerts', '/v1/alerts/alertmanager', '/v1/alerts/pagerduty'];

/** Valid documents with random mutations: the shapes most likely to reach deep code. */
const nearlyValid = fc.oneof(
  fc.record({
    title: fc.oneof(fc.string(), fc.constant(''), fc.integer()),
    severity: fc.oneof(fc.constantFrom('critical', 'high', 'low', 'urgent', ''), fc.integer()),
    source: fc.oneof(fc.string(), fc.constant(null)),
    dedup_key: fc.option(fc.string({ maxLength: 600 })),
    agent_id: fc.option(fc.oneof(fc.string(), fc.integer())),
    status: fc.option(fc.constantFrom('firing', 'resolved', 'maybe')),
    labels: fc.option(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.constant(null)))),
    details: fc.option(fc.jsonValue()),
    occurred_at: fc.option(
      fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string(),
      ),
    ),
  }),
  fc
    .array(
      fc.record({
        fingerprint: fc.string(),
        status: fc.constantFrom('firing', 'resolved') as fc.Arbitrary<'firing' | 'resolved'>,
      }),
      { maxLength: 5 },
    )
    .map((a) => alertmanagerBody(a)),
  fc
    .constantFrom('trigger', 'acknowledge', 'resolve', 'explode')
    .map((action) => ({ ...pagerdutyEvent(PD_KEY), event_action: action })),
  fc.jsonValue(),
);

/** Valid generic alerts with random text: so a good share of requests reach storage and routing. */
const validGeneric = fc.record({
  title: fc.string({ minLength: 1, maxLength: 200 }).filter((t) => t.trim().length > 0),
  severity: fc.constantFrom('critical', 'high', 'medium', 'low', 'info'),
  source: fc.string({ minLength: 1, maxLength: 50 }).filter((t) => t.trim().length > 0),
  dedup_key: fc.string({ minLength: 1, maxLength: 100 }).filter((t) => t.trim().length > 0),
  labels: fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 50 }), { maxKeys: 4 }),
});

const rawBody = fc.oneof(
  { arbitrary: validGeneric.map((v) => JSON.stringify(v)), weight: 3 },
  nearlyValid.map((v) => JSON.stringify(v) ?? 'null'),
  fc.string(),
  fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.constantFrom('', '{', '[]', 'null', '{"title":', '\u0000', '{"a":1}'.repeat(3), '\uFEFF{}'),
);

const headerSet = fc.record({
  auth: fc.oneof(
    { arbitrary: fc.constantFrom('bearer', 'signature'), weight: 3 },
    fc.constantFrom('none', 'bad-bearer', 'stale-signature', 'garbage-signature'),
  ),
  contentType: fc.constantFrom(
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/json; charset=latin1',
    '',
  ),
});

function headersFor(h: { auth: string; contentType: string }, body: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (h.contentType) out['content-type'] = h.contentType;
  const now = Math.floor(Date.now() / 1000);
  if (h.auth === 'bearer') out.authorization = `Bearer ${TEST_WEBHOOK_SECRET}`;
  if (h.auth === 'bad-bearer') out.authorization = 'Bearer nope';
  if (h.auth === 'signature')
    out['x-firebreak-signature'] = `t=${now},v1=${signBody(TEST_WEBHOOK_SECRET, now, body)}`;
  if (h.auth === 'stale-signature')
    out['x-firebreak-signature'] = `t=${now - 3600},v1=${signBody(TEST_WEBHOOK_SECRET, now - 3600, body)}`;
  if (h.auth === 'garbage-signature') out['x-firebreak-signature'] = 't=abc,v1=,,==';
  return out;
}

describe('intake fuzzing', () => {
  it('answers every random request to every intake endpoint with 2xx or 4xx', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), rawBody, headerSet, async (path, body, h) => {
        const res = await fetch(`${stack.url}${path}`, {
          method: 'POST',
          headers: headersFor(h, body),
          body,
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `${path} ${h.auth} ${JSON.stringify(body).slice(0, 200)}`).toBeLessThan(500);
      }),
      { numRuns: 400 },
    );
    // The generators must reach past auth and validation, or the property says little.
    expect(statuses.get(202) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
  });

  it('answers oversized and odd-sized bodies with 4xx and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 * 1024 * 1024 }),
        fc.constantFrom(...paths),
        async (size, path) => {
          const body = `{"title":"${'x'.repeat(size)}"}`;
          const res = await fetch(`${stack.url}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TEST_WEBHOOK_SECRET}`, 'content-type': 'application/json' },
            body,
          });
          await res.arrayBuffer();
          expect(res.status).toBeGreaterThanOrEqual(200);
          expect(res.status).toBeLessThan(500);
          if (body.length > 1024 * 1024) expect(res.status).toBe(413);
        },
      ),
      { numRuns: 25 },
    );
    expect((await fetch(`${stack.url}/openapi.json`)).status).toBe(200);
  });
});
