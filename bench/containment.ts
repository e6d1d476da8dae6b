/**
 * alert → containment: latency from `POST /v1/alerts` to the first containment action's activity
 * starting (built-in agent-credential-leak playbook, severity high: containment is automatic, after
 * the assess phase's background snapshot and announce). Baseline, same run and server: starting a
 * bare workflow that runs one activity. Target: p50 ≤ 1.5× the baseline.
 *
 * The forensic snapshot's cost (issue 16 §4): the same playbook without its `preserve` step,
 * measured in the same run, interleaved with the built-in one (alternating which goes first), the
 * same number of incidents each. Target: p50 with the snapshot ≤ 1.10× the p50 without.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { parseDocument } from 'yaml';
import { actionRunOf } from '../db/action-runs';
import type { PinnedPlaybook } from '../domain/incident';
import { BUILTIN_PLAYBOOK_DIR, loadPlaybookDir, pinPlaybook } from '../playbooks/loader';
import { percentile, postAlert, report, startBenchStack } from './lib/stack';

const RUNS = Number(process.env.BENCH_CONTAINMENT_RUNS ?? 30);

const NO_SNAPSHOT_CLASS = 'credential_leak_no_snapshot';

/** The built-in credential-leak playbook without its background snapshot, for its own class. */
function withoutSnapshot(): PinnedPlaybook {
  const file = path.join(BUILTIN_PLAYBOOK_DIR, 'agent-credential-leak.yaml');
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  const assess = doc.getIn(['phases', 'assess']) as { items: { get(k: string): unknown }[] };
  assess.items = assess.items.filter((step) => step.get('id') !== 'preserve');
  doc.set('id', 'agent-credential-leak-no-snapshot');
  doc.setIn(['match', 'labels', 'incident_class'], NO_SNAPSHOT_CLASS);
  return pinPlaybook(doc.toString(), 'agent-credential-leak-no-snapshot.yaml');
}

export async function benchContainment() {
  const stack = await startBenchStack({ drill: true, playbooks: [...loadPlaybookDir(), withoutSnapshot()] });
  try {
    // Baseline: a bare workflow on its own task queue of the same server.
    const started: number[] = [];
    const connection = await NativeConnection.connect({ address: stack.target.address });
    const baseWorker = await Worker.create({
      connection,
      taskQueue: 'bench-baseline',
      workflowsPath: path.join(path.dirname(fileURLToPath(import.meta.url)), 'baseline-workflow.ts'),
      activities: {
        async touch(sentAt: number) {
          started.push(performance.now() - sentAt);
        },
      },
    });
    const base: number[] = [];
    await baseWorker.runUntil(async () => {
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        const h = await stack.api.temporal.client.workflow.start('bareWorkflow', {
          workflowId: `bench-baseline-${Date.now()}-${i}`,
          taskQueue: 'bench-baseline',
          args: [t0],
        });
        await h.result();
        base.push(started[started.length - 1]!);
      }
    });
    await connection.close();

    const lat = { snapshot: [] as number[], none: [] as number[] };
    const incidents = { snapshot: [] as string[], none: [] as string[] };
    let n = 0;
    /** One incident, measured alone (1 s after the previous one, as the baseline runs alone). */
    const measure = async (variant: keyof typeof lat) => {
      // The previous incident's investigate phase (seven evidence collections) would otherwise
      // share the worker with this one's start.
      if (n > 0) await new Promise((r) => setTimeout(r, 1000));
      const i = n++;
      const t0 = Date.now();
      const incidentId = await postAlert(stack.api.url, {
        title: 'Agent key seen on paste site',
        severity: 'high',
        source: 'bench',
        dedup_key: `contain-${i}`,
        agent_id: `agent-${i}`,
        labels: { incident_class: variant === 'snapshot' ? 'credential_leak' : NO_SNAPSHOT_CLASS },
      });
      incidents[variant].push(incidentId);
      for (;;) {
        const row = await actionRunOf(stack.services.db, incidentId, 'disable_agent');
        if (row) {
          lat[variant].push(Date.parse(row.startedAt) - t0);
          return;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    for (let i = 0; i < RUNS; i++) {
      for (const v of i % 2 === 0 ? (['snapshot', 'none'] as const) : (['none', 'snapshot'] as const))
        await measure(v);
    }
    // Each variant ran the playbook it names: the snapshot's activity ran (it may still be
    // starting for the last incident), or never did.
    const ranSnapshot = async (id: string) => {
      for (let t = 0; t < 100; t++) {
        if (await actionRunOf(stack.services.db, id, 'preserve_traces')) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    for (const id of incidents.snapshot)
      if (!(await ranSnapshot(id))) throw new Error(`incident ${id}: the snapshot never ran`);
    for (const id of incidents.none)
      if (await actionRunOf(stack.services.db, id, 'preserve_traces'))
        throw new Error(`incident ${id}: a snapshot ran in the variant without one`);
    base.sort((a, b) => a - b);
    lat.snapshot.sort((a, b) => a - b);
    lat.none.sort((a, b) => a - b);
    const p50 = percentile(lat.snapshot, 50);
    report('containment', 'baseline_p50', percentile(base, 50), 'ms', { runs: RUNS });
    report('containment', 'alert_to_containment_p50', p50, 'ms', { runs: RUNS, snapshot: 'background' });
    report('containment', 'alert_to_containment_p99', percentile(lat.snapshot, 99), 'ms');
    report('containment', 'p50_ratio_vs_baseline', p50 / percentile(base, 50), 'x', { target: '<= 1.5' });
    const none50 = percentile(lat.none, 50);
    report('containment', 'no_snapshot_p50', none50, 'ms', { runs: RUNS, snapshot: 'none' });
    report('containment', 'no_snapshot_p99', percentile(lat.none, 99), 'ms');
    report('containment', 'snapshot_p50_ratio_vs_no_snapshot', p50 / none50, 'x', { target: '<= 1.10' });
  } finally {
    await stack.close();
  }
}
