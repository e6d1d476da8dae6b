/**
 * Fault injection, "scale out" (issue 18): two `app/api.ts` and two `app/worker.ts` processes on
 * one PostgreSQL (a throwaway cluster on loopback) and one Temporal server take a seeded alert
 * storm split across both APIs, and one API and one worker are SIGKILLed mid-storm and not
 * restarted: the survivors take over (the dead API's outbox rows, the dead worker's tasks). Every
 * alert that got a 202 is in exactly one incident and reached its workflow, each incident's
 * containment acted exactly once at the target, and the audit chain verifies. The same storm
 * against SQLite with one API process and one worker (killed and restarted) is the baseline.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeDb, dialectOf, openDatabase, type Db } from '../../db/client';
import { undispatchedAlertCount } from '../../db/incident-alerts';
import {
  assertStormOutcome,
  importStormAgents,
  sendStorm,
  startApiProcess,
  startWorkerProcess,
  stopDeployment,
  stormDeployment,
  waitForSettled,
  type StormDeployment,
  type StormPlan,
} from '../helpers/alert-storm';
import { createTestDatabase } from '../helpers/postgres';
import { prng } from '../helpers/prng';
import { killTree } from '../helpers/process';
import { startRevokeTarget, type RevokeTarget } from '../helpers/revoke-target';
import { startPostgres, type LocalPostgres } from './services';

const PLAN: Omit<StormPlan, 'seed' | 'name'> = { agents: 6, dedupKeysPerAgent: 5, copies: 4, concurrency: 8 };
const TOTAL = PLAN.agents * PLAN.dedupKeysPerAgent * PLAN.copies;
/** Kills land between 30% and 60% of the storm's acknowledgements (seeded). */
const killPoint = (seed: number) => Math.floor(TOTAL * (0.3 + 0.3 * prng(seed)()));
const SETTLE_MS = 360_000;

let target: RevokeTarget;
let cluster: LocalPostgres | undefined;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  target = await startRevokeTarget();
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  await target?.close();
  await cluster?.stop();
});

async function testHandle(d: StormDeployment): Promise<Db> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-storm-reader-'));
  const db = await openDatabase({
    databaseUrl: d.databaseUrl,
    dataDir: d.databaseUrl ? dataDir : path.join(d.root, 'data'),
  });
  cleanup.push(async () => {
    await closeDb(db);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return db;
}

describe('fault: alert storm while processes are killed', () => {
  it('two APIs and two workers on PostgreSQL, one of each SIGKILLed mid-storm: nothing lost, nothing doubled', async () => {
    const seed = 0x18f4a11;
    const plan: StormPlan = { seed, name: 'pg', ...PLAN };
    cluster = await startPostgres();
    const database = await createTestDatabase(cluster.adminUrl);
    const d = stormDeployment({
      target,
      databaseUrl: database.url,
      temporalAddress: inject('temporalAddress'),
    });
    cleanup.push(() => stopDeployment(d));

    // Both APIs start at once (both migrate the empty database), then the workers.
    const [apiA, apiB] = await Promise.all([startApiProcess(d, 'api-a'), startApiProcess(d, 'api-b')]);
    const workerA = await startWorkerProcess(d, 'worker-a', apiB.url);
    const workerB = await startWorkerProcess(d, 'worker-b', apiB.url);
    await importStormAgents(apiB.url, plan);
    const db = await testHandle(d);
    expect(dialectOf(db)).toBe('postgres');

    const at = killPoint(seed);
    let killed = false;
    let undispatchedAtKill = 0;
    const t0 = Date.now();
    const run = await sendStorm(
      plan,
      () => (killed ? [apiB.url] : [apiA.url, apiB.url]),
      async (n) => {
        if (n !== at) return;
        killed = true;
        await Promise.all([killTree(apiA.child), killTree(workerA.child)]);
        undispatchedAtKill = await undispatchedAlertCount(db);
      },
    );
    expect(killed).toBe(true);
    const incidents = await waitForSettled(db, d, plan, SETTLE_MS);
    const settledMs = Date.now() - t0;
    console.log(JSON.stringify({ killAt: at, undispatchedAtKill, resent: run.resent, settledMs }));
    expect(workerB.child.proc.exitCode).toBeNull();
    await assertStormOutcome({
      db,
      d,
      plan,
      run,
      incidents,
      target,
      dataDirs: [apiA.dataDir, apiB.dataDir, workerA.dataDir, workerB.dataDir],
    });
    await stopDeployment(d); // its processes would only load the machine for the baseline
  }, 600_000);

  it('baseline on SQLite: one API and one worker, the worker SIGKILLed mid-storm and restarted', async () => {
    const seed = 0x5a17e;
    const plan: StormPlan = { seed, name: 'sqlite', ...PLAN };
    target.effects.clear();
    const d = stormDeployment({ target, databaseUrl: undefined, temporalAddress: inject('temporalAddress') });
    cleanup.push(() => stopDeployment(d));
    const api = await startApiProcess(d, 'api');
    const worker = await startWorkerProcess(d, 'worker', api.url);
    await importStormAgents(api.url, plan);
    const db = await testHandle(d);
    expect(dialectOf(db)).toBe('sqlite');

    const at = killPoint(seed);
    let restarted: Promise<unknown> | undefined;
    const t0 = Date.now();
    const run = await sendStorm(
      plan,
      () => [api.url],
      async (n) => {
        if (n !== at) return;
        await killTree(worker.child);
        restarted = startWorkerProcess(d, 'worker', api.url);
      },
    );
    expect(restarted).toBeDefined();
    await restarted;
    const incidents = await waitForSettled(db, d, plan, SETTLE_MS);
    console.log(JSON.stringify({ killAt: at, resent: run.resent, settledMs: Date.now() - t0 }));
    await assertStormOutcome({
      db,
      d,
      plan,
      run,
      incidents,
      target,
      dataDirs: [api.dataDir],
    });
  }, 600_000);
});
