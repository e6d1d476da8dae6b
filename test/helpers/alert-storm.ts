/**
 * The alert-storm fault scenario shared by the PostgreSQL fault test and its SQLite baseline
 * (test/integration/pg-fault.test.ts): real `app/api.ts` and `app/worker.ts` child processes on
 * one database and one Temporal server, a signed-HTTP target (revoke-target.ts) counting every
 * effect by the Idempotency-Key it receives, a seeded storm of alerts (several agents, several
 * dedup keys each, each key sent several times) spread over the APIs, SIGKILLs at seeded points of it, and the
 * checks: every alert that got a 202 is stored once, in the one incident of its agent, and reached
 * that incident's workflow; every incident's credential revoke happened exactly once at the target;
 * the audit chain verifies against the database and against every process's recorded head.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { expect } from 'vitest';
import YAML from 'yaml';
import { loadAuditKey } from '../../app/audit-key';
import { verifyAuditChain } from '../../db/audit';
import { closeDb, openDatabase, type Db } from '../../db/client';
import { alertsOfIncident, getAlert, undispatchedAlertCount } from '../../db/incident-alerts';
import { playbookStepsOf } from '../../db/incident-projection';
import { listIncidents, type IncidentRow } from '../../db/incidents';
import { incidentState } from '../../workflows/messages';
import { prng } from './prng';
import { killTree, runEntry, type Child } from './process';
import { TARGET_SECRET, type RevokeTarget } from './revoke-target';
import { bearer, eventually, TEST_ADMIN_TOKEN, TEST_WEBHOOK_SECRET } from './stack';

/** The steps of the built-in agent-credential-leak playbook a critical alert runs. */
const CONTAINMENT = ['disable_agent', 'revoke_credential'];
/** The manual task the playbook waits on once containment and the evidence steps are done. */
const SETTLED_AT = 'scope_use';

export interface StormPlan {
  seed: number;
  /**
   * Names the storm's agents (`agent-<name>-<i>`). Incident ids derive from the incident key
   * alone, so two storms on one Temporal namespace need different agents, or the second one's
   * alerts signal the first one's still-running workflows.
   */
  name: string;
  agents: number;
  dedupKeysPerAgent: number;
  /** Each alert is sent this many times (duplicates of one dedup key). */
  copies: number;
  /** Requests in flight at once. */
  concurrency: number;
}

export interface StormAlert {
  agentId: string;
  dedupKey: string;
}

export function stormAgents(plan: StormPlan): string[] {
  return Array.from({ length: plan.agents }, (_, i) => `agent-${plan.name}-${i}`);
}

/** The storm's alerts in a seeded order: every dedup key of every agent, `copies` times each. */
export function stormAlerts(plan: StormPlan): StormAlert[] {
  const all = stormAgents(plan).flatMap((agentId) =>
    Array.from({ length: plan.dedupKeysPerAgent * plan.copies }, (_, i) => ({
      agentId,
      dedupKey: `${agentId}-d${i % plan.dedupKeysPerAgent}`,
    })),
  );
  const random = prng(plan.seed);
  for (let i = all.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all;
}

/** What the processes share, as a deployment would: config file, key dir, database, task queue. */
export interface StormDeployment {
  root: string;
  configFile: string;
  keyDir: string;
  taskQueue: string;
  databaseUrl: string | undefined;
  temporalAddress: string;
  children: Child[];
}

export function stormDeployment(opts: {
  target: RevokeTarget;
  databaseUrl: string | undefined;
  temporalAddress: string;
}): StormDeployment {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-storm-'));
  const configFile = path.join(root, 'firebreak.yaml');
  fs.writeFileSync(
    configFile,
    YAML.stringify({
      // Every alert about one agent goes to that agent's one incident, whatever its dedup key.
      rules: [{ name: 'storm', match: { labels: { storm: 'yes' } }, group_by: 'agent_id' }],
      connectors: {
        http_systems: [
          {
            name: 'vault',
            base_url: opts.target.url,
            secret: TARGET_SECRET,
            timeout_ms: 5000,
            restrict: { method: 'POST', path: '/revoke/{name}' },
            check: { method: 'GET', path: '/access/{name}', active_field: 'active' },
          },
        ],
      },
    }),
  );
  return {
    root,
    configFile,
    keyDir: path.join(root, 'keys'),
    taskQueue: `storm-${path.basename(root)}`,
    databaseUrl: opts.databaseUrl,
    temporalAddress: opts.temporalAddress,
    children: [],
  };
}

/**
 * Each process has a DATA_DIR of its own, as on its own host: on PostgreSQL nothing but files kept
 * beside the database (the audit head, local evidence) goes there. On SQLite they share one, the
 * database's (`sharedDataDir`).
 */
function processEnv(d: StormDeployment, dataDir: string, extra: Record<string, string>) {
  return {
    DATA_DIR: dataDir,
    ...(d.databaseUrl ? { DATABASE_URL: d.databaseUrl } : {}),
    TEMPORAL_ADDRESS: d.temporalAddress,
    TEMPORAL_TASK_QUEUE: d.taskQueue,
    FIREBREAK_CONFIG: d.configFile,
    FIREBREAK_KEY_DIR: d.keyDir,
    FIREBREAK_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    FIREBREAK_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    HOST: '127.0.0.1',
    PORT: '0',
    ...extra,
  };
}

export function dataDirFor(d: StormDeployment, name: string): string {
  return d.databaseUrl ? path.join(d.root, name) : path.join(d.root, 'data');
}

export interface ApiProcess {
  child: Child;
  url: string;
  dataDir: string;
}

export async function startApiProcess(d: StormDeployment, name: string): Promise<ApiProcess> {
  const dataDir = dataDirFor(d, name);
  const child = runEntry('app/api.ts', processEnv(d, dataDir, {}));
  d.children.push(child);
  const m = await child.waitFor(/Firebreak API ready: (http:\/\/\S+)/, 120_000);
  return { child, url: m[1]!, dataDir };
}

/** `statusUrl`: the API whose signed status documents verify the agent disable. */
export async function startWorkerProcess(d: StormDeployment, name: string, statusUrl: string) {
  const dataDir = dataDirFor(d, name);
  const child = runEntry('app/worker.ts', processEnv(d, dataDir, { FIREBREAK_STATUS_BASE_URL: statusUrl }));
  d.children.push(child);
  await child.waitFor(/Firebreak worker ready/, 180_000);
  return { child, dataDir };
}

export async function stopDeployment(d: StormDeployment): Promise<void> {
  for (const c of d.children) await killTree(c);
  fs.rmSync(d.root, { recursive: true, force: true });
}

/** The storm's agents, each with one credential held by the target. */
export async function importStormAgents(apiUrl: string, plan: StormPlan): Promise<void> {
  const agents = stormAgents(plan).map((id) => ({
    id,
    name: id,
    owner: 'sec@example.com',
    environment: 'prod',
    credentials: [{ id: `${id}-key`, provider: 'http', reference: `vault:${id}-key` }],
  }));
  const res = await fetch(`${apiUrl}/v1/agents`, {
    method: 'POST',
    headers: bearer(TEST_ADMIN_TOKEN),
    body: JSON.stringify({ agents }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

export interface Acknowledged {
  alertId: string;
  incidentId: string;
  agentId: string;
  dedupKey: string;
}

export interface StormRun {
  acknowledged: Acknowledged[];
  /** Requests that got no 202 from the API they went to first (a killed one), then sent again. */
  resent: number;
}

/**
 * Sends the storm, `concurrency` requests at a time, each to a seeded choice among `apis()`
 * (the APIs alive at that moment). A request whose API dies under it is sent again to another,
 * as a real sender retries: only 202s count as acknowledged. `onSent(n)` runs after the n-th
 * acknowledgement, so a test can kill processes at a seeded point of the storm.
 */
export async function sendStorm(
  plan: StormPlan,
  apis: () => string[],
  onSent: (n: number) => Promise<void> | void,
): Promise<StormRun> {
  const alerts = stormAlerts(plan);
  const random = prng(plan.seed ^ 0x5bd1e995);
  const acknowledged: Acknowledged[] = [];
  let resent = 0;
  let next = 0;
  const send = async (a: StormAlert): Promise<void> => {
    for (let attempt = 0; ; attempt += 1) {
      const live = apis();
      const url = live[Math.floor(random() * live.length)]!;
      try {
        const res = await fetch(`${url}/v1/alerts`, {
          method: 'POST',
          headers: bearer(TEST_WEBHOOK_SECRET),
          body: JSON.stringify({
            title: `Agent ${a.agentId} credential seen outside its runtime`,
            severity: 'critical',
            source: 'storm',
            dedup_key: a.dedupKey,
            agent_id: a.agentId,
            labels: { storm: 'yes', incident_class: 'credential_leak', credential_id: `${a.agentId}-key` },
          }),
        });
        const body = (await res.json()) as { incident_id: string; alert_id: string };
        if (res.status === 202) {
          acknowledged.push({ alertId: body.alert_id, incidentId: body.incident_id, ...a });
          await onSent(acknowledged.length);
          return;
        }
        throw new Error(`POST /v1/alerts answered ${res.status}: ${JSON.stringify(body)}`);
      } catch (err) {
        // Refused or reset: the API died under it. Anything else is a failure of the test.
        if (!(err instanceof TypeError) || attempt >= 20) throw err;
        resent += 1;
      }
    }
  };
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      while (next < alerts.length) await send(alerts[(next += 1) - 1]!);
    }),
  );
  return { acknowledged, resent };
}

/** The storm's incidents in the database: one per agent, keyed by agent. */
async function stormIncidents(db: Db): Promise<IncidentRow[]> {
  return (await listIncidents(db, { limit: 1000 })).filter((i) => i.key.includes(':group:storm:'));
}

/**
 * Polls until every incident has settled: every stored alert dispatched and counted by its
 * workflow, containment done and the playbook waiting on its manual task. Returns the incidents.
 */
export async function waitForSettled(
  db: Db,
  d: StormDeployment,
  plan: StormPlan,
  timeoutMs: number,
): Promise<IncidentRow[]> {
  const connection = await Connection.connect({ address: d.temporalAddress });
  const client = new Client({ connection });
  try {
    let last = '';
    return await eventually(
      async () => {
        const incidents = await stormIncidents(db);
        const pending = await undispatchedAlertCount(db);
        const unsettled: string[] = [];
        for (const inc of incidents) {
          const steps = await playbookStepsOf(db, inc.id);
          const status = (id: string) => steps.find((s) => s.stepId === id)?.status;
          const rows = await alertsOfIncident(db, inc.id);
          const state = await client.workflow.getHandle(inc.workflowId).query(incidentState);
          const done =
            CONTAINMENT.every((s) => status(s) === 'succeeded') &&
            status(SETTLED_AT) === 'waiting' &&
            state.alertCount === rows.length;
          if (!done)
            unsettled.push(
              `${inc.id}: ${CONTAINMENT.map((s) => `${s}=${status(s)}`).join(' ')} ` +
                `${SETTLED_AT}=${status(SETTLED_AT)} alerts ${state.alertCount}/${rows.length}`,
            );
        }
        last = `${incidents.length}/${plan.agents} incidents, ${pending} undispatched; ${unsettled.join('; ')}`;
        return incidents.length === plan.agents && pending === 0 && unsettled.length === 0
          ? incidents
          : undefined;
      },
      timeoutMs,
      'every storm incident to settle',
    ).catch((err: unknown) => {
      const logs = d.children.map(
        (c, i) => `--- process ${i} (${c.proc.spawnargs.at(-1)}):\n${c.output().slice(-3000)}`,
      );
      throw new Error(`${String(err)}\nlast seen: ${last}\n${logs.join('\n')}`);
    });
  } finally {
    await connection.close();
  }
}

/**
 * The assertions of the scenario, once settled: nothing lost, nothing doubled, every effect once
 * at the target, the audit chain intact. `dataDirs`: every process's DATA_DIR (its audit head).
 */
export async function assertStormOutcome(opts: {
  db: Db;
  d: StormDeployment;
  plan: StormPlan;
  run: StormRun;
  incidents: IncidentRow[];
  target: RevokeTarget;
  dataDirs: string[];
}): Promise<void> {
  const { db, plan, run, incidents, target } = opts;
  const agents = stormAgents(plan);
  const byAgent = new Map(incidents.map((i) => [i.agentId, i]));
  // One incident per agent: concurrent first alerts on two APIs never opened a second one.
  expect(incidents).toHaveLength(agents.length);
  expect([...byAgent.keys()].sort()).toEqual([...agents].sort());

  // Every 202 is one stored alert, in the one incident of its agent, handed to its workflow.
  expect(new Set(run.acknowledged.map((a) => a.alertId)).size).toBe(run.acknowledged.length);
  expect(run.acknowledged).toHaveLength(agents.length * plan.dedupKeysPerAgent * plan.copies);
  for (const a of run.acknowledged) {
    const row = await getAlert(db, a.alertId);
    expect(row, `alert ${a.alertId} acknowledged but not stored`).toBeDefined();
    expect(row!.incidentId).toBe(a.incidentId);
    expect(a.incidentId).toBe(byAgent.get(a.agentId)!.id);
    expect(row!.dedupKey).toBe(a.dedupKey);
    expect(row!.dispatchedAt).not.toBeNull();
  }
  const acknowledgedOf = (id: string) => run.acknowledged.filter((a) => a.incidentId === id).length;
  for (const inc of incidents) {
    const rows = await alertsOfIncident(db, inc.id);
    // A resent request may have been committed by the API that died before it could answer: at
    // most that many rows beyond the acknowledged ones, never fewer.
    expect(rows.length).toBeGreaterThanOrEqual(acknowledgedOf(inc.id));
    expect(rows.length - acknowledgedOf(inc.id)).toBeLessThanOrEqual(run.resent);
    expect(inc.alertCount).toBe(rows.length);
  }

  // Each incident's containment acted once at the target, and nothing else did.
  expect(target.badSignatures).toBe(0);
  for (const inc of incidents)
    expect(target.effects.get(`${inc.id}:revoke_credential:restrict`), inc.id).toBe(1);
  expect(target.effects.size).toBe(incidents.length);

  // One audit chain, signed throughout, and no process saw a head the chain no longer has.
  const { verifier } = loadAuditKey(opts.d.keyDir);
  for (const dataDir of opts.dataDirs) {
    const own = await openDatabase({ databaseUrl: opts.d.databaseUrl, dataDir });
    try {
      const v = await verifyAuditChain(own, { key: verifier });
      expect(v, dataDir).toMatchObject({ ok: true });
      expect(v.entries).toBeGreaterThan(incidents.length * CONTAINMENT.length);
    } finally {
      await closeDb(own);
    }
  }
}
