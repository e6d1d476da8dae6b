/**
 * Property-based fuzzing of every operation in the OpenAPI document the app serves (fast-check),
 * against the real app on a real SQLite file and the shared Temporal dev server, with a worker, so
 * decisions reach running incident workflows. Each case picks an operation, fills its path with
 * known ids (a running incident, a drill, an agent, an artifact) or hostile segments, adds a random
 * query, a body (nearly valid for the route, random JSON, nested up to 20,000 deep, or bytes) and a
 * credential of a random scope. Every answer must be 2xx, 3xx or 4xx (never 5xx), every error a
 * JSON error body, and the server must keep answering afterwards. The document must cover the
 * README's API table, so a route added there is fuzzed too.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import '../helpers/fuzz-seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig, sha256Hex } from '../../app/config-file';
import { projectRoot } from '../../temporal/cli-binary';
import { alertmanagerBody, pagerdutyEvent } from '../helpers/intake';
import {
  bearer,
  eventually,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';

const PD_KEY = 'fuzz-api-routing-key-0123456789abcdef';
const READ = 'fuzz-read-token-0123456789abcdef';
const RESPOND = 'fuzz-respond-token-0123456789abcdef';
const EXPIRED = 'fuzz-expired-token-0123456789abcdef';

const TOKENS: Record<string, string | undefined> = {
  admin: TEST_ADMIN_TOKEN,
  read: READ,
  respond: RESPOND,
  expired: EXPIRED,
  source: TEST_WEBHOOK_SECRET,
  none: undefined,
  garbage: 'not-a-token',
};

interface Operation {
  method: string;
  template: string;
}

/** Ids that exist, so a share of the cases gets past the 404s to the code behind them. */
interface Known {
  incidents: string[];
  drill: string;
  agent: string;
  sha256: string;
  scenarioYaml: string;
}

let stack: TestStack;
let operations: Operation[];
let known: Known;

async function json(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${res.status} is not JSON: ${text.slice(0, 200)}`);
  }
}

async function openIncident(key: string): Promise<string> {
  const res = await fetch(`${stack.url}/v1/alerts`, {
    method: 'POST',
    headers: bearer(TEST_WEBHOOK_SECRET),
    body: JSON.stringify({ title: `fuzz ${key}`, severity: 'high', source: 'fuzz', dedup_key: key }),
  });
  expect(res.status).toBe(202);
  const id = ((await json(res)) as { incident_id: string }).incident_id;
  await eventually(
    async () => {
      const r = await fetch(`${stack.url}/v1/incidents/${id}`, { headers: bearer(TEST_ADMIN_TOKEN) });
      return ((await json(r)) as { started_at: string | null }).started_at;
    },
    30_000,
    `incident ${id} started`,
  );
  return id;
}

async function seed(): Promise<Known> {
  const incidents = [
    await openIncident('fuzz-a'),
    await openIncident('fuzz-b'),
    await openIncident('fuzz-c'),
  ];
  const agents = await fetch(`${stack.url}/v1/agents`, {
    method: 'POST',
    headers: bearer(TEST_ADMIN_TOKEN),
    body: JSON.stringify({
      agents: [
        {
          id: 'fuzz-agent',
          name: 'Fuzz agent',
          owner: 'fuzz',
          environment: 'test',
          credentials: [{ id: 'fuzz-cred', provider: 'http', reference: 'token/1' }],
        },
      ],
    }),
  });
  expect(agents.status).toBe(200);
  const upload = await fetch(
    `${stack.url}/v1/incidents/${incidents[0]}/evidence?kind=log&source=fuzz&agent_id=fuzz-agent`,
    { method: 'POST', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: 'artifact bytes' },
  );
  expect(upload.status).toBe(201);
  const { sha256 } = (await json(upload)) as { sha256: string };
  const scenarioYaml = fs.readFileSync(path.join(projectRoot, 'drills/agent-credential-leak.yaml'), 'utf8');
  const drill = await fetch(`${stack.url}/v1/drills`, {
    method: 'POST',
    headers: bearer(TEST_ADMIN_TOKEN),
    body: JSON.stringify({ scenario_yaml: scenarioYaml, auto: true, speed: 10_000 }),
  });
  expect(drill.status).toBe(202);
  const { incident_id: drillId } = (await json(drill)) as { incident_id: string };
  return { incidents, drill: drillId, agent: 'fuzz-agent', sha256, scenarioYaml };
}

beforeAll(async () => {
  stack = await startTestStack({
    fileConfig: parseFileConfig(
      {
        sources: [{ id: 'pagerduty', routing_key: PD_KEY }],
        default_rate_limit: { per_second: 100_000, burst: 100_000 },
        users: [
          { id: 'reader', name: 'Reader', tokens: [{ token_sha256: sha256Hex(READ), scopes: ['read'] }] },
          {
            id: 'responder',
            name: 'Responder',
            tokens: [{ token_sha256: sha256Hex(RESPOND), scopes: ['respond'] }],
          },
          {
            id: 'former',
            name: 'Former',
            tokens: [
              { token_sha256: sha256Hex(EXPIRED), scopes: ['admin'], expires_at: '2020-01-01T00:00:00Z' },
            ],
          },
        ],
      },
      {},
      'fuzz config',
    ),
  });
  const doc = (await json(await fetch(`${stack.url}/openapi.json`))) as {
    paths: Record<string, Record<string, unknown>>;
  };
  operations = Object.entries(doc.paths).flatMap(([template, item]) =>
    Object.keys(item).map((method) => ({ method: method.toUpperCase(), template })),
  );
  known = await seed();
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

/** The README's API table as `METHOD /path/{param}` lines. */
function readmeRoutes(): string[] {
  const readme = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
  return [...readme.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) (\/[^`]*)`/gm)].map(
    (m) => `${m[1]} ${m[2]!.replace(/:(\w+)/g, '{$1}')}`,
  );
}

/** `depth` nested arrays or objects around a scalar, as JSON text (built iteratively). */
function nested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A path segment that is not an id: odd characters, traversal, bad escapes, very long. */
const hostileSegment = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom('..', '.', '%', '%zz', '%E0%A4%A', '%00', '%2F', '%%', '~', 'a%20b', "'", '"', '<x>'),
  fc.integer({ min: 1, max: 9000 }).map((n) => 'x'.repeat(n)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).map(encodeURIComponent),
);

/** A known value for the parameter `name` of `template`, or a hostile one. */
function segment(template: string, name: string): fc.Arbitrary<string> {
  const real =
    name === 'sha256'
      ? [known.sha256]
      : name === 'stepId'
        ? ['approve_rotation', 'revoke_credential', 'contain', 'assess']
        : template.startsWith('/v1/drills')
          ? [known.drill]
          : template.startsWith('/v1/agents')
            ? [known.agent]
            : known.incidents;
  return fc.oneof({ arbitrary: fc.constantFrom(...real), weight: 3 }, hostileSegment);
}

const queryValue = fc.oneof(
  fc.constantFrom('', 'open', 'closed', 'critical', 'live', 'drill', '0', '-1', '50', '201', '1e3', 'null'),
  fc.string({ maxLength: 30 }),
  fc.integer({ min: 1, max: 5000 }).map((n) => 'q'.repeat(n)),
  fc.string({ minLength: 1, maxLength: 40 }).map((s) => Buffer.from(s).toString('base64url')),
);
const QUERY_NAMES = ['status', 'severity', 'agent', 'mode', 'limit', 'cursor', 'kind', 'source', 'agent_id'];
const query = fc.oneof(
  fc.constant(''),
  fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_NAMES), fc.string({ maxLength: 10 })), queryValue), {
      maxLength: 5,
    })
    .map((pairs) => `?${new URLSearchParams(pairs).toString()}`),
  fc.constantFrom('?cursor=%zz', '?limit=%', '?kind=log&source=%E0%A4%A', '?&&=&', '?limit=1&limit=2'),
);

/** What a route accepts when used correctly: fuzzed by mutation to reach past its validation. */
function validBody(template: string): unknown {
  if (template === '/v1/alerts')
    return {
      title: 'Fuzzed alert',
      severity: 'high',
      source: 'fuzz',
      dedup_key: 'fuzz-x',
      agent_id: 'fuzz-agent',
    };
  if (template === '/v1/alerts/alertmanager')
    return alertmanagerBody([{ fingerprint: 'f1', status: 'firing' }]);
  if (template === '/v1/alerts/pagerduty') return pagerdutyEvent(PD_KEY);
  if (template.endsWith('/approvals/{stepId}')) return { decision: 'approve', reason: 'fuzz' };
  if (template.endsWith('/done')) return { note: 'fuzz' };
  if (template.endsWith('/notes')) return { text: 'fuzz note' };
  if (/\/(abort|close|escalate)$/.test(template)) return { reason: 'fuzz', target: 'security' };
  if (template === '/v1/agents')
    return { agents: [{ id: 'fuzz-agent-2', name: 'Fuzz 2', owner: 'fuzz', environment: 'test' }] };
  if (template === '/v1/drills') return { scenario_yaml: known.scenarioYaml, auto: true, speed: 10_000 };
  if (template.endsWith('/judgements')) return { expectation: 'revoked', verdict: 'met', note: 'fuzz' };
  return {};
}

/** A body for `template`: mutated valid, random JSON, deeply nested, or not JSON at all. */
function body(template: string): fc.Arbitrary<string> {
  const valid = validBody(template) as Record<string, unknown>;
  const fields = [...Object.keys(valid), 'details', 'labels', 'scenario', 'agents'];
  return fc.oneof(
    { arbitrary: fc.constant(JSON.stringify(valid)), weight: 2 },
    {
      arbitrary: fc
        .dictionary(fc.constantFrom(...fields), fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.string()), {
          maxKeys: 3,
        })
        .map((over) => JSON.stringify({ ...valid, ...over })),
      weight: 3,
    },
    fc
      .tuple(
        fc.constantFrom(...fields),
        fc.integer({ min: 1, max: 20_000 }),
        fc.constantFrom('array', 'object'),
      )
      .map(([field, depth, kind]) => {
        const rest = JSON.stringify({ ...valid, [field]: 0 });
        return rest.replace(`"${field}":0`, `"${field}":${nested(depth, kind as 'array' | 'object')}`);
      }),
    fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v) ?? 'null'),
    fc.string({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 1024 }).map((b) => Buffer.from(b).toString('latin1')),
    fc.constantFrom('', '{', '[]', 'null', '"x"', '{"a":1}{"a":2}', '\uFEFF{}', '{"__proto__":{"x":1}}'),
  );
}

const credential = fc.oneof(
  { arbitrary: fc.constantFrom('admin', 'source'), weight: 4 },
  fc.constantFrom('read', 'respond', 'expired', 'none', 'garbage'),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  '',
);

function fill(template: string): fc.Arbitrary<string> {
  const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  if (names.length === 0) return fc.constant(template);
  return fc
    .tuple(...names.map((n) => segment(template, n)))
    .map((values) => names.reduce((p, n, i) => p.replace(`{${n}}`, values[i]!), template));
}

const request = () =>
  fc.constantFrom(...operations).chain((op) =>
    fc.record({
      op: fc.constant(op),
      path: fill(op.template),
      query,
      body: op.method === 'GET' ? fc.constant(undefined) : body(op.template),
      credential,
      contentType,
    }),
  );

type Sent = {
  op: Operation;
  path: string;
  query: string;
  body: string | undefined;
  credential: string;
  contentType: string;
};

async function send(r: Sent): Promise<{ status: number; text: string; type: string }> {
  const headers: Record<string, string> = {};
  const token = TOKENS[r.credential];
  if (token) headers.authorization = `Bearer ${token}`;
  if (r.contentType && r.body !== undefined) headers['content-type'] = r.contentType;
  const res = await fetch(`${stack.url}${r.path}${r.query}`, {
    method: r.op.method,
    headers,
    body: r.body,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/**
 * An error answer must be the API's JSON error shape, not a framework's or a crash's page. 431
 * is Node's HTTP parser refusing a request line over its header limit before the app runs.
 */
function expectErrorBody(res: { status: number; text: string; type: string }, what: string) {
  if (res.status === 431) return;
  expect(res.type, what).toContain('application/json');
  const ofrep = JSON.parse(res.text) as { errorCode?: unknown; errorDetails?: unknown };
  if (/ \/ofrep\//.test(what) && ofrep.errorCode !== undefined) {
    // OFREP answers evaluation errors in its own shape, which the providers read (errorCode).
    expect(typeof ofrep.errorCode, what).toBe('string');
    expect(typeof ofrep.errorDetails, what).toBe('string');
    return;
  }
  const parsed = JSON.parse(res.text) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof parsed.error?.code, what).toBe('string');
  expect(typeof parsed.error?.message, what).toBe('string');
}

async function stillServing() {
  expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
  const res = await fetch(`${stack.url}/v1/incidents?limit=1`, { headers: bearer(TEST_ADMIN_TOKEN) });
  expect(res.status).toBe(200);
}

describe('API fuzzing (every operation of /openapi.json)', () => {
  it('documents every route of the README table, so each one is fuzzed', () => {
    const documented = new Set(operations.map((o) => `${o.method} ${o.template}`));
    const readme = readmeRoutes();
    expect(readme.length).toBeGreaterThanOrEqual(30);
    expect(readme.filter((r) => !documented.has(r))).toEqual([]);
  });

  it('closes the connection after an answer that left the body unread', async () => {
    // The node server would drain such a body for 500 ms and then destroy the socket, killing the
    // client's next request on that keep-alive connection (the fuzzer's sequences found it).
    const early = await fetch(`${stack.url}/v1/incidents/${known.incidents[0]}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"text":"${'x'.repeat(900_000)}"}`,
    });
    expect(early.status).toBe(401);
    expect(early.headers.get('connection')).toBe('close');
    await early.arrayBuffer();
    const read = await fetch(`${stack.url}/v1/incidents/${known.incidents[0]}/notes`, {
      method: 'POST',
      headers: bearer(TEST_ADMIN_TOKEN),
      body: `{"text":"${'x'.repeat(5000)}"}`,
    });
    expect(read.status).toBe(400);
    expect(read.headers.get('connection')).not.toBe('close');
  });

  it('answers random requests to every operation with 2xx-4xx and JSON errors', async () => {
    const statuses = new Map<string, Set<number>>();
    await fc.assert(
      fc.asyncProperty(request(), async (r) => {
        const res = await send(r);
        const key = `${r.op.method} ${r.op.template}`;
        if (!statuses.has(key)) statuses.set(key, new Set());
        statuses.get(key)!.add(res.status);
        const what = `${key} as ${r.credential}: ${r.path.slice(0, 120)}${r.query.slice(0, 80)} ${String(r.body).slice(0, 200)} -> ${res.status} ${res.text.slice(0, 300)}`;
        expect(res.status, what).toBeGreaterThanOrEqual(200);
        expect(res.status, what).toBeLessThan(500);
        if (res.status >= 400) expectErrorBody(res, what);
      }),
      { numRuns: 1200 },
    );
    // Every operation was reached, and most of them past authentication to a 2xx.
    expect([...statuses.keys()].sort()).toEqual(operations.map((o) => `${o.method} ${o.template}`).sort());
    const succeeded = [...statuses.entries()].filter(([, s]) => [...s].some((x) => x < 300));
    expect(succeeded.length, JSON.stringify([...statuses].map(([k, s]) => [k, [...s]]))).toBeGreaterThan(
      operations.length / 2,
    );
    await stillServing();
  }, 120_000);

  it('answers JSON nested up to 20,000 deep in any field of any body with a 4xx or 2xx', async () => {
    const posts = operations.filter((o) => o.method === 'POST');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...posts),
        fc.integer({ min: 33, max: 20_000 }),
        fc.constantFrom('array', 'object'),
        async (op, depth, kind) => {
          const valid = validBody(op.template) as Record<string, unknown>;
          const field = Object.keys(valid)[depth % Math.max(1, Object.keys(valid).length)] ?? 'details';
          const text = JSON.stringify({ ...valid, [field]: 0 }).replace(
            `"${field}":0`,
            `"${field}":${nested(depth, kind as 'array' | 'object')}`,
          );
          const res = await send({
            op,
            path: op.template.replace(/\{(\w+)\}/g, (_m, n: string) =>
              n === 'sha256'
                ? known.sha256
                : n === 'stepId'
                  ? 'assess'
                  : op.template.startsWith('/v1/drills')
                    ? known.drill
                    : known.incidents[2]!,
            ),
            query: op.template.endsWith('/evidence') ? '?kind=log&source=fuzz' : '',
            body: text,
            credential: op.template.startsWith('/v1/alerts') ? 'source' : 'admin',
            contentType: 'application/json',
          });
          const what = `${op.method} ${op.template} ${field} depth ${depth} ${kind} -> ${res.status} ${res.text.slice(0, 300)}`;
          expect(res.status, what).toBeLessThan(500);
          if (res.status >= 400) expectErrorBody(res, what);
        },
      ),
      { numRuns: 150 },
    );
    await stillServing();
  }, 120_000);

  it('answers bodies from 1 byte to 3 MiB on every POST with 2xx/4xx, 413 past the limit', async () => {
    const posts = operations.filter((o) => o.method === 'POST' && !o.template.endsWith('/evidence'));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...posts),
        fc.integer({ min: 1, max: 3 * 1024 * 1024 }),
        async (op, size) => {
          const text = `{"text":"${'x'.repeat(size)}","reason":"r","decision":"approve"}`;
          const res = await send({
            op,
            path: op.template.replace(/\{(\w+)\}/g, (_m, n: string) =>
              n === 'stepId'
                ? 'assess'
                : op.template.startsWith('/v1/drills')
                  ? known.drill
                  : known.incidents[2]!,
            ),
            query: '',
            body: text,
            credential: op.template.startsWith('/v1/alerts') ? 'source' : 'admin',
            contentType: 'application/json',
          });
          const what = `${op.method} ${op.template} ${text.length} bytes -> ${res.status} ${res.text.slice(0, 200)}`;
          expect(res.status, what).toBeLessThan(500);
          if (text.length > 1024 * 1024) expect(res.status, what).toBe(413);
          if (res.status >= 400) expectErrorBody(res, what);
        },
      ),
      { numRuns: 40 },
    );
    await stillServing();
  }, 120_000);
});
