/**
 * `/openapi.json` documents every route the Hono app registers (method and path, read from
 * `app.routes`, so a new route without its entry fails here), and `/docs` is a page that loads
 * nothing from another origin: no CDN script, style or font.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
});
afterAll(async () => {
  await stack?.close();
});

type Doc = { paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> };

/** Hono's `/:id/evidence/:sha256` (optionally `:id{regex}`) as OpenAPI's `/{id}/evidence/{sha256}`. */
const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');

/**
 * Every handler the app registers, as `METHOD path`; `ALL` entries are middleware (`app.use`).
 * The console's HTML pages (/console) are not API operations (docs/console.md lists them).
 */
function registeredRoutes(): string[] {
  const routes = stack.app.routes
    .filter((r) => r.method !== 'ALL' && !r.path.startsWith('/console'))
    .map((r) => `${r.method} ${openApiPath(r.path)}`);
  return [...new Set(routes)].sort();
}

describe('/openapi.json', () => {
  it('documents every registered route, method and path', async () => {
    const res = await fetch(`${stack.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
    );
    const routes = registeredRoutes();
    // The app is the one the service runs: the routes the issue names are among them.
    for (const named of [
      'GET /healthz',
      'GET /metrics',
      'POST /slack/events',
      'GET /v1/agents',
      'POST /v1/agents',
      'GET /v1/agents/{id}',
      'GET /v1/agents/{id}/status',
      'GET /v1/incidents/{id}/evidence',
      'POST /v1/incidents/{id}/evidence',
      'GET /v1/incidents/{id}/evidence/{sha256}',
      'GET /v1/incidents/{id}/postmortem.json',
      'GET /v1/incidents/{id}/action-items',
      'POST /v1/drills',
    ]) {
      expect(routes).toContain(named);
    }
    expect(routes.filter((r) => !documented.has(r))).toEqual([]);
    // Nor does the document describe a route the app does not have.
    expect([...documented].filter((d) => !routes.includes(d)).sort()).toEqual([]);
  });

  it('gives every operation a summary, responses, and its path parameters', async () => {
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { summary?: string; responses?: object; parameters?: { name: string; in: string }[] }>
      >;
    };
    for (const [p, ops] of Object.entries(doc.paths)) {
      const wanted = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${p}`;
        expect(op.summary, where).toBeTruthy();
        expect(Object.keys(op.responses ?? {}).length, where).toBeGreaterThan(0);
        const inPath = (op.parameters ?? [])
          .filter((x) => x.in === 'path')
          .map((x) => x.name)
          .sort();
        expect(inPath, where).toEqual(wanted);
      }
    }
  });
});

describe('/docs', () => {
  it('is served without any script, style or font from another origin', async () => {
    const res = await fetch(`${stack.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    // Every URL the page would load (src, href, CSS url(), @import) stays on this origin.
    const refs = [
      ...html.matchAll(/\b(?:src|href)\s*=\s*["']?([^"'\s>]+)/gi),
      ...html.matchAll(/url\(\s*["']?([^"')]+)/gi),
      ...html.matchAll(/@import\s+["']([^"']+)/gi),
    ].map((m) => m[1]!);
    const external = refs.filter((u) => /^(?:[a-z][a-z0-9+.-]*:)?\/\//i.test(u));
    expect(external).toEqual([]);
    expect(html).not.toMatch(/<script\b[^>]*\bsrc=/i);
    expect(html).not.toMatch(/cdn\.|jsdelivr|unpkg/i);
    // It lists the operations of the document it describes.
    expect(html).toContain('href="/openapi.json"');
    expect(html).toContain('/v1/agents/{id}/status');
    expect(html).toContain('POST');
  });
});
