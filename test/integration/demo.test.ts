/**
 * `npm run demo` end to end, as a newcomer runs it after `npm install`: its own embedded Temporal
 * dev server and SQLite in a temp dir, the example inventory, the TypeScript example agent and the
 * in-process MCP tool server. The agent must stop on the critical alert with no tool call getting
 * through after it, and the demo must print the incident and the step that waits for a responder.
 * It stays on SQLite also when the suite runs with FIREBREAK_TEST_DATABASE=postgres: the demo is
 * the no-configuration path (`npm start` without DATABASE_URL), which must keep working unchanged.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { testConfigHome } from '../helpers/process';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

it('npm run demo imports the inventory, stops the agent on a critical alert and says what to approve', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-demo-test-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--exit'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      XDG_CONFIG_HOME: testConfigHome,
      DEMO_DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code, out).toBe(0);

  expect(out).toMatch(/imported examples\/inventory\.yaml \(support-bot, billing-agent\)/);
  const incident = /demo: incident (inc-\S+) opened/.exec(out)?.[1];
  expect(incident, out).toBeDefined();
  const agent = out
    .split('\n')
    .filter((l) => l.startsWith('agent  '))
    .map((l) => JSON.parse(l.slice(7)) as Record<string, unknown>);
  expect(agent.filter((e) => e.event === 'step' && e.ok === true).length).toBeGreaterThanOrEqual(3);
  expect(agent.find((e) => e.event === 'stopped')).toMatchObject({ reason: 'disabled', incident });
  expect(out).toMatch(new RegExp(`incident ${incident}: .*playbook agent-anomalous-behavior`));
  expect(out).toMatch(/step\.succeeded\s+agent support-bot disabled/);
  expect(out).toMatch(/the next step waits for a responder: (\w+): /);
  expect(out).toMatch(new RegExp(`/v1/incidents/${incident}/(tasks|approvals)/\\w+`));
  expect(out).toMatch(/the MCP server saw \d+ tool calls; after the stop: 0/);

  const calls = fs
    .readFileSync(path.join(dataDir, 'tool-calls.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { caller: string });
  expect(calls.length).toBeGreaterThanOrEqual(3);
  expect(new Set(calls.map((c) => c.caller))).toEqual(new Set(['support-bot']));
  fs.rmSync(dataDir, { recursive: true, force: true });
});
