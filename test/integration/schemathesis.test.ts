/**
 * Schemathesis against the OpenAPI document the app serves, on the real app (SQLite, the shared
 * Temporal dev server, a worker): every operation, positive and negative cases, authenticated with
 * the admin token and the default source's secret (per security scheme), with path ids of a
 * running incident, a drill, an agent and an artifact so cases reach the code behind the 404s.
 * No answer may be a 5xx, and every answer must be documented for its operation and match the
 * documented schema, content type and headers.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../temporal/cli-binary';
import {
  bearer,
  eventually,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';
import { ensureSchemathesis } from './schemathesis';

const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'response_headers_conformance',
];

let schemathesis: string;
let stack: TestStack;
let dir: string;
beforeAll(async () => {
  // Before the stack: pip blocks this process, and nothing must wait on it then.
  schemathesis = ensureSchemathesis();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-schemathesis-'));
  stack = await startTestStack();
}, 180_000);
afterAll(async () => {
  await stack?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function post(p: string, headers: Record<string, string>, body: string) {
  const res = await fetch(`${stack.url}${p}`, { method: 'POST', headers, body });
  const json = (await res.json()) as Record<string, any>;
  expect(res.status, JSON.stringify(json)).toBeLessThan(300);
  return json;
}

/** Ids that exist, for the path parameters of every operation that takes one. */
async function seed() {
  const alert = { title: 'schemathesis', severity: 'high', source: 'st', dedup_key: 'st-1' };
  const { incident_id: incident } = await post(
    '/v1/alerts',
    bearer(TEST_WEBHOOK_SECRET),
    JSON.stringify(alert),
  );
  await eventually(async () => {
    const r = await fetch(`${stack.url}/v1/incidents/${incident}`, { headers: bearer(TEST_ADMIN_TOKEN) });
    return ((await r.json()) as { started_at: string | null }).started_at;
  }, 30_000);
  const agent = { id: 'st-agent', name: 'Schemathesis agent', owner: 'qa', environment: 'test' };
  await post('/v1/agents', bearer(TEST_ADMIN_TOKEN), JSON.stringify({ agents: [agent] }));
  const { sha256 } = await post(
    `/v1/incidents/${incident}/evidence?kind=log&source=st`,
    { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    'artifact bytes',
  );
  const scenario = fs.readFileSync(path.join(projectRoot, 'drills/agent-credential-leak.yaml'), 'utf8');
  const { incident_id: drill } = await post(
    '/v1/drills',
    bearer(TEST_ADMIN_TOKEN),
    JSON.stringify({ scenario_yaml: scenario, auto: true, speed: 10_000 }),
  );
  return { incident: String(incident), drill: String(drill), agent: agent.id, sha256: String(sha256) };
}

/** schemathesis.toml: credentials by security scheme (from the environment), ids by path. */
function configFile(ids: Awaited<ReturnType<typeof seed>>): string {
  const file = path.join(dir, 'schemathesis.toml');
  const q = JSON.stringify;
  fs.writeFileSync(
    file,
    [
      '[auth.openapi.apiToken]',
      'bearer = "${FIREBREAK_ST_API_TOKEN}"',
      '[auth.openapi.sourceBearer]',
      'bearer = "${FIREBREAK_ST_SOURCE_SECRET}"',
      '',
      '[[operations]]',
      `include-path-regex = ${q('^/v1/incidents/\\{id\\}')}`,
      `parameters = { "path.id" = ${q(ids.incident)}, "path.sha256" = ${q(ids.sha256)} }`,
      '[[operations]]',
      `include-path-regex = ${q('^/v1/drills/\\{id\\}')}`,
      `parameters = { "path.id" = ${q(ids.drill)} }`,
      '[[operations]]',
      `include-path-regex = ${q('^/v1/agents/\\{id\\}')}`,
      `parameters = { "path.id" = ${q(ids.agent)} }`,
      '',
    ].join('\n'),
  );
  return file;
}

/** Runs the CLI without blocking this process, which serves the API it is testing. */
function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(schemathesis, args, {
      cwd: dir,
      env: {
        ...process.env,
        FIREBREAK_ST_API_TOKEN: TEST_ADMIN_TOKEN,
        FIREBREAK_ST_SOURCE_SECRET: TEST_WEBHOOK_SECRET,
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('schemathesis against /openapi.json', () => {
  it('finds no 5xx and no answer that the document does not describe', async () => {
    const config = configFile(await seed());
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as {
      paths: Record<string, object>;
    };
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    const seedArg = process.env.FIREBREAK_FUZZ_SEED ? ['--seed', process.env.FIREBREAK_FUZZ_SEED] : [];
    const { code, output } = await run([
      '--no-color',
      '--config-file',
      config,
      'run',
      `${stack.url}/openapi.json`,
      '--checks',
      CHECKS.join(','),
      '--phases',
      'examples,coverage,fuzzing',
      '--max-examples',
      '15',
      // One worker: Python 3.11's ast.parse is not thread-safe, and hypothesis parses lambdas'
      // source while it describes a strategy ("AST constructor recursion depth mismatch").
      '--workers',
      '1',
      '--request-timeout',
      '30',
      ...seedArg,
    ]);
    expect(code, output.slice(-20_000)).toBe(0);
    // Every operation but GET /openapi.json, which schemathesis leaves out as the document itself.
    expect(output).toContain(`Tested: ${operations - 1}`);
    const cases = /(\d+) generated, (\d+) passed/.exec(output);
    expect(cases, output.slice(-5000)).not.toBeNull();
    console.log(`schemathesis: ${cases![0]} over ${operations - 1} operations`);
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
  }, 420_000);
});
