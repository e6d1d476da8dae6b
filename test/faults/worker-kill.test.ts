/**
 * Fault injection, "worker killed" (issue 9). What it proves: live playbooks whose actions act on a
 * real in-house system (the signed HTTP connector's `access.restrict`, the connector Firebreak's
 * executeAction claims idempotency for: a 'started' row left by a crash is checked against the
 * target before acting again) complete even when the worker process is SIGKILLed at seeded random
 * moments and restarted, and every effect happens exactly once, counted AT THE TARGET by the
 * Idempotency-Key it receives, with one action_runs row per step.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import YAML from 'yaml';
import { verifySignature } from '../../connectors/signed-http';
import { importAgents } from '../connectors/fixtures';
import { actionRows, pinYaml, startIncident, timelineRows, waitForPlaybook } from '../helpers/playbooks';
import { prng } from '../helpers/prng';
import { descendants, isAlive, killTree, runEntry, type Child } from '../helpers/process';
import { startTestStack, TEST_ADMIN_TOKEN, TEST_WEBHOOK_SECRET, type TestStack } from '../helpers/stack';

const SECRET = 'fault-target-hmac-secret-0123456789';
const INCIDENTS = 6;
const KILLS = 5;
/** The target answers this long after applying an effect: a kill inside it hits the crash window. */
const RESPONSE_DELAY_MS = 250;
const SEED = 0x9e3779b9;
const STEPS = ['restrict_a', 'restrict_b', 'restrict_c'];

/** The in-house system: applies a restriction, then answers slowly (a window for a kill). */
const target = {
  effects: new Map<string, number>(),
  restricted: new Set<string>(),
  badSignatures: 0,
  total: 0,
  onEffect: undefined as ((total: number) => void) | undefined,
};

/** Resolves when the target has applied its `n`-th effect (bounded). */
function effectNumber(n: number, timeoutMs = 90_000): Promise<void> {
  if (target.total >= n) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`target never saw effect #${n}`)), timeoutMs);
    target.onEffect = (total) => {
      if (total < n) return;
      clearTimeout(timer);
      target.onEffect = undefined;
      resolve();
    };
  });
}

let stack: TestStack;
let server: http.Server;
let configFile: string;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  server = http.createServer((q, s) => {
    let body = '';
    q.on('data', (d: Buffer) => (body += d.toString()));
    q.on('end', () => {
      const signed = { method: q.method ?? '', path: q.url ?? '', body };
      if (!verifySignature(SECRET, q.headers['x-firebreak-signature'] as string, signed)) {
        target.badSignatures += 1;
        s.writeHead(401).end('{}');
        return;
      }
      const m = /^\/(restrict|access)\/(.+)$/.exec(q.url ?? '');
      const name = decodeURIComponent(m?.[2] ?? '');
      if (m?.[1] === 'restrict') {
        const key = String(q.headers['idempotency-key']);
        target.effects.set(key, (target.effects.get(key) ?? 0) + 1);
        target.restricted.add(name);
        target.total += 1;
        target.onEffect?.(target.total);
        setTimeout(() => s.writeHead(200).end(JSON.stringify({ ok: true })), RESPONSE_DELAY_MS);
      } else if (m?.[1] === 'access') {
        s.writeHead(200).end(JSON.stringify({ active: !target.restricted.has(name) }));
      } else s.writeHead(404).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  configFile = path.join(stack.dataDir, 'firebreak.yaml');
  fs.writeFileSync(
    configFile,
    YAML.stringify({
      connectors: {
        http_systems: [
          {
            name: 'target',
            base_url: `http://127.0.0.1:${port}`,
            secret: SECRET,
            timeout_ms: 2000,
            restrict: { method: 'POST', path: '/restrict/{name}' },
            check: { method: 'GET', path: '/access/{name}', active_field: 'active' },
          },
        ],
      },
    }),
  );
});
afterAll(async () => {
  for (const w of workers) await killTree(w);
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await stack?.close();
});

const workers: Child[] = [];
async function startWorkerProcess(): Promise<Child> {
  const worker = runEntry('app/worker.ts', {
    DATA_DIR: stack.dataDir,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue,
    FIREBREAK_CONFIG: configFile,
    FIREBREAK_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    FIREBREAK_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  });
  workers.push(worker);
  await worker.waitFor(/Firebreak worker ready/, 90_000);
  return worker;
}

const step = (id: string) => `
    - id: ${id}
      kind: action
      action: access.restrict
      params: { agent_id: '\${{ incident.agent_id }}', resource: 'http:target:\${{ incident.agent_id }}-${id}' }
      timeout: 3s
      retry: { attempts: 20, backoff: 500ms }`;

const playbook = pinYaml(`
id: worker-kill
version: 1
title: Worker kill
phases:
  contain:${step('restrict_a')}
    - id: pause
      kind: wait
      duration: 1s${step('restrict_b')}
  investigate:${step('restrict_c')}
`);

describe('fault: worker killed', () => {
  it('SIGKILLed workers at random points: every playbook completes, every effect lands once', async () => {
    const t0 = Date.now();
    // One agent per incident, owning the resources its steps restrict (access.restrict acts only
    // on resources the inventory binds to the incident's agent alone).
    const agentIds = Array.from({ length: INCIDENTS }, (_, i) => `agent-wk-${i}`);
    await importAgents(
      stack,
      agentIds.map((id) => ({
        id,
        name: id,
        owner: 'sec@example.com',
        environment: 'test',
        permissions: STEPS.map((s) => `http:target:${id}-${s}`),
      })),
    );
    const started = await Promise.all(
      agentIds.map(async (agentId) => ({
        agentId,
        ...(await startIncident(stack, { playbook, mode: 'live', agentId })),
      })),
    );
    // Kill points: a seeded random number of effects further on (the rest spread over the kills
    // still to come), then a seeded random delay shorter than the target's answer, so each kill
    // lands after an effect was applied and before the worker could record it: the case crash
    // recovery must not repeat.
    const random = prng(SEED);
    const total = INCIDENTS * STEPS.length;
    const kills: { atEffect: number; afterMs: number; startedRows: number; finishedRows: number }[] = [];
    for (let i = 0; i < KILLS && target.total < total - 1; i += 1) {
      const child = await startWorkerProcess();
      const span = Math.max(1, Math.floor((total - 1 - target.total) / (KILLS - i)));
      const atEffect = target.total + 1 + Math.floor(random() * span);
      await effectNumber(atEffect);
      const afterMs = Math.floor(random() * (RESPONSE_DELAY_MS - 50));
      await new Promise((r) => setTimeout(r, afterMs));
      const rows = started.flatMap(({ incidentId }) => actionRows(stack, incidentId));
      const pids = [child.proc.pid!, ...descendants(child.proc.pid!)];
      expect(pids.filter(isAlive)).toContain(child.proc.pid); // killed mid-flight, not after exiting
      await killTree(child);
      expect(pids.filter(isAlive)).toEqual([]);
      kills.push({
        atEffect,
        afterMs,
        startedRows: rows.filter((r) => r.status === 'started').length,
        finishedRows: rows.filter((r) => r.status !== 'started').length,
      });
    }
    await startWorkerProcess();
    for (const { handle } of started) await waitForPlaybook(handle, 'completed', 150_000);
    const elapsedMs = Date.now() - t0;

    const rows = started.flatMap(({ incidentId }) => actionRows(stack, incidentId));
    const recovered = rows.filter((r) =>
      /already in effect/.test(String((r.result as { summary?: string } | null)?.summary)),
    ).length;
    console.log(JSON.stringify({ kills, elapsedMs, recoveredByCheck: recovered }));

    // Every kill interrupted an action whose effect was applied but not yet recorded, and each of
    // those was completed by asking the target, not by acting again.
    expect(kills.length).toBeGreaterThanOrEqual(3);
    expect(kills.every((k) => k.startedRows >= 1 && k.finishedRows < total)).toBe(true);
    expect(recovered).toBeGreaterThanOrEqual(kills.length);
    expect(target.badSignatures).toBe(0);
    for (const { incidentId, agentId } of started) {
      const own = actionRows(stack, incidentId);
      expect(own.map((r) => r.stepId).sort()).toEqual([...STEPS].sort());
      expect(own.every((r) => r.status === 'succeeded')).toBe(true);
      for (const s of STEPS) {
        expect(target.effects.get(`${incidentId}:${s}:restrict`), `${incidentId}/${s}`).toBe(1);
        expect(target.restricted.has(`${agentId}-${s}`)).toBe(true);
      }
      const succeeded = timelineRows(stack, incidentId)
        .filter((e) => e.kind === 'step.succeeded')
        .map((e) => (e.data as { stepId: string }).stepId);
      expect(succeeded.sort()).toEqual([...STEPS, 'pause'].sort());
    }
    expect(target.effects.size).toBe(total);
  }, 420_000);
});
