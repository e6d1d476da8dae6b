/**
 * The route × credential matrix: every route the app serves, called with no token, a token of
 * each scope, the admin token and the default source's secret, against the README's API table.
 * A scoped route answers 401 without a known API token, 403 with a token that lacks its scope,
 * and neither with one that has it; routes with their own authentication (alert sources, Slack)
 * or none ignore API tokens. The table must list exactly the routes `createApp` mounts, and the
 * README must say the same, so a new route cannot ship without a row in both.
 */
import fs from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { parseFileConfig, sha256Hex } from '../../app/config-file';
import { startTestStack, TEST_ADMIN_TOKEN, TEST_WEBHOOK_SECRET, type TestStack } from '../helpers/stack';

type Auth = 'read' | 'respond' | 'admin' | 'source' | 'slack' | 'runtime' | 'decision_log' | 'open';

/** The README's API table, one row per method and path. */
const ROUTES: [method: string, path: string, auth: Auth][] = [
  ['POST', '/v1/alerts', 'source'],
  ['POST', '/v1/alerts/alertmanager', 'source'],
  ['POST', '/v1/alerts/pagerduty', 'source'],
  ['GET', '/v1/incidents', 'read'],
  ['GET', '/v1/incidents/:id', 'read'],
  ['GET', '/v1/incidents/:id/timeline', 'read'],
  ['POST', '/v1/incidents/:id/approvals/:stepId', 'respond'],
  ['POST', '/v1/incidents/:id/tasks/:stepId/done', 'respond'],
  ['POST', '/v1/incidents/:id/notes', 'respond'],
  ['POST', '/v1/incidents/:id/abort', 'respond'],
  ['POST', '/v1/incidents/:id/escalate', 'respond'],
  ['POST', '/v1/incidents/:id/playbook', 'respond'],
  ['POST', '/v1/incidents/:id/release', 'respond'],
  ['POST', '/v1/incidents/:id/close', 'respond'],
  ['GET', '/v1/incidents/:id/evidence', 'read'],
  ['POST', '/v1/incidents/:id/evidence', 'respond'],
  ['GET', '/v1/incidents/:id/evidence/:sha256', 'read'],
  ['GET', '/v1/incidents/:id/postmortem.md', 'read'],
  ['GET', '/v1/incidents/:id/postmortem.json', 'read'],
  ['GET', '/v1/incidents/:id/action-items', 'read'],
  ['GET', '/v1/agents', 'read'],
  ['POST', '/v1/agents', 'admin'],
  ['GET', '/v1/agents/:id', 'read'],
  ['GET', '/v1/agents/:id/status', 'runtime'],
  ['GET', '/.well-known/jwks.json', 'open'],
  ['POST', '/ofrep/v1/evaluate/flags/:key', 'runtime'],
  ['POST', '/ofrep/v1/evaluate/flags', 'runtime'],
  ['GET', '/ofrep/v1/event-stream', 'runtime'],
  ['POST', '/v1/connectors/opa/decision-logs', 'decision_log'],
  ['POST', '/v1/drills', 'respond'],
  ['GET', '/v1/drills/:id/report', 'read'],
  ['POST', '/v1/drills/:id/judgements', 'respond'],
  ['POST', '/slack/events', 'slack'],
  ['GET', '/metrics', 'read'],
  ['GET', '/healthz', 'open'],
  ['GET', '/openapi.json', 'open'],
  ['GET', '/docs', 'open'],
];

const READ = 'matrix-read-token-0123456789abcdef';
const RESPOND = 'matrix-respond-token-0123456789abcdef';
const ADMIN_SCOPE = 'matrix-admin-scope-token-0123456789abcdef';
const CREDENTIALS: [name: string, token: string | undefined][] = [
  ['no token', undefined],
  ['read token', READ],
  ['respond token', RESPOND],
  ['admin-scope token', ADMIN_SCOPE],
  ['admin token', TEST_ADMIN_TOKEN],
  ['source secret', TEST_WEBHOOK_SECRET],
];
const SCOPES_OF: Record<string, Auth[]> = {
  'read token': ['read'],
  'respond token': ['respond'],
  'admin-scope token': ['read', 'respond', 'admin'],
  'admin token': ['read', 'respond', 'admin'],
};

const fileConfig = parseFileConfig(
  {
    users: [
      { id: 'reader', name: 'Reader', tokens: [{ token_sha256: sha256Hex(READ), scopes: ['read'] }] },
      { id: 'responder', name: 'Responder', tokens: [{ token_env: 'RESPOND_TOKEN', scopes: ['respond'] }] },
      {
        id: 'operator',
        name: 'Operator',
        tokens: [{ token_sha256: sha256Hex(ADMIN_SCOPE), scopes: ['admin'] }],
      },
    ],
    // Every refusal below is counted against one client: the matrix must not meet the limit.
    runtimes: { refused_rate_limit: { per_second: 1000, burst: 1000 } },
  },
  { RESPOND_TOKEN: RESPOND },
  'matrix config',
);

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ fileConfig });
});
afterAll(async () => {
  await stack?.close();
});

/** A concrete URL for a route pattern: ids that name nothing, so no handler changes any state. */
const urlOf = (path: string) =>
  path.replace(':id', 'inc-matrix-none').replace(':stepId', 'step-none').replace(':sha256', '0'.repeat(64));

async function call(method: string, path: string, token: string | undefined) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await stack.app.request(urlOf(path), {
    method,
    headers,
    ...(method === 'GET' ? {} : { body: '{}' }),
  });
  const text = await res.text();
  return { status: res.status, text };
}

describe('the route table', () => {
  it('lists exactly the routes the app serves', () => {
    // The console's HTML pages (/console) authenticate by session, not token: test/api/console.test.ts.
    const served = new Set(
      stack.app.routes
        .filter((r) => r.method !== 'ALL' && !r.path.startsWith('/console'))
        .map((r) => `${r.method} ${r.path}`),
    );
    expect([...served].sort()).toEqual(ROUTES.map(([m, p]) => `${m} ${p}`).sort());
  });

  it("is the README's API table", () => {
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const api = readme.slice(readme.indexOf('\n## API\n'), readme.indexOf('\n## Playbooks\n'));
    const rows = [...api.matchAll(/^\| `(GET|POST) ([^`]+)`\s*\|([^|]+)\|/gm)].map(([, m, p, auth]) => {
      const cell = auth!.trim();
      const scope = /^`(read|respond|admin)`/.exec(cell)?.[1] as Auth | undefined;
      const kind: Auth =
        scope ??
        (cell === '–'
          ? 'open'
          : cell.includes('Slack signature')
            ? 'slack'
            : cell.includes('source secret')
              ? 'source'
              : cell.startsWith('runtime token')
                ? 'runtime'
                : cell.startsWith('decision-log token')
                  ? 'decision_log'
                  : (cell as Auth));
      return `${m} ${p} ${kind}`;
    });
    expect(rows.sort()).toEqual(ROUTES.map((r) => r.join(' ')).sort());
  });
});

describe.each(ROUTES)('%s %s (%s)', (method, path, auth) => {
  if (auth === 'read' || auth === 'respond' || auth === 'admin') {
    it.each(CREDENTIALS)('%s', async (name, token) => {
      const res = await call(method, path, token);
      const allowed = SCOPES_OF[name]?.includes(auth);
      if (allowed === undefined) {
        expect(res.status, res.text).toBe(401);
      } else if (!allowed) {
        expect(res.status, res.text).toBe(403);
        expect(res.text).toContain(`lacks the ${auth} scope`);
      } else {
        expect([401, 403], res.text).not.toContain(res.status);
        expect(res.text).not.toContain('no route for');
      }
    });
  } else if (auth === 'runtime') {
    // Runtime tokens (none here) and read-scope API tokens may ask; the agent named exists nowhere,
    // so a token that may ask gets the uniform 403 and every other credential 401.
    it.each(CREDENTIALS)('%s', async (name, token) => {
      const res = await call(method, path, token);
      const reads = SCOPES_OF[name]?.includes('read');
      if (reads) expect(res.status, res.text).not.toBe(401);
      else expect(res.status, res.text).toBe(401);
      expect(res.text).not.toContain('no route for');
    });
  } else if (auth === 'decision_log') {
    // Only a decision-log token (none here) may upload: API tokens and source secrets get 401.
    it.each(CREDENTIALS)('%s', async (_name, token) => {
      const res = await call(method, path, token);
      expect(res.status, res.text).toBe(401);
    });
  } else if (auth === 'source') {
    it.each(CREDENTIALS)('%s', async (name, token) => {
      const res = await call(method, path, token);
      if (name === 'source secret') expect([401, 403], res.text).not.toContain(res.status);
      else expect(res.status, res.text).toBe(401);
    });
  } else {
    it('answers the same to every credential, never 401 or 403', async () => {
      const statuses = new Set<number>();
      for (const [, token] of CREDENTIALS) {
        const res = await call(method, path, token);
        expect([401, 403], res.text).not.toContain(res.status);
        statuses.add(res.status);
      }
      expect([...statuses]).toHaveLength(1);
    });
  }
});

describe('token expiry', () => {
  it('answers 401 naming the reason once a token is past its expires_at, on every scoped route', async () => {
    const TEMP = 'matrix-temporary-token-0123456789abcdef';
    const expiring = parseFileConfig(
      {
        users: [
          {
            id: 'contractor',
            name: 'Contractor',
            tokens: [
              {
                token_sha256: sha256Hex(TEMP),
                scopes: ['read', 'respond'],
                expires_at: '2027-01-31T12:00:00Z',
              },
            ],
          },
        ],
      },
      {},
      'expiry config',
    );
    let now = new Date('2027-01-31T11:59:59.999Z');
    const app = createApp({ ...stack, log: pino({ level: 'silent' }), fileConfig: expiring, now: () => now });
    const ask = async (path: string, token: string) => {
      const res = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
      return {
        status: res.status,
        body: (await res.json()) as { error?: { code: string; message: string } },
      };
    };

    expect((await ask('/v1/incidents', TEMP)).status).toBe(200);
    now = new Date('2027-01-31T12:00:00.000Z');
    for (const path of ['/v1/incidents', '/v1/incidents/inc-x/evidence', '/v1/drills/d-x/report']) {
      const refused = await ask(path, TEMP);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toMatchObject({ code: 'token_expired' });
      expect(refused.body.error!.message).toContain('token expired at 2027-01-31T12:00:00.000Z');
      expect(refused.body.error!.message).not.toContain(TEMP);
    }
    // Other tokens are unaffected, and an unknown token still says only that it is not valid.
    expect((await ask('/v1/incidents', TEST_ADMIN_TOKEN)).status).toBe(200);
    expect((await ask('/v1/incidents', 'matrix-unknown-token-0123456789')).body.error).toMatchObject({
      code: 'unauthorized',
    });
  });
});
