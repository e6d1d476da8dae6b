/**
 * alert → containment: latency from `POST /v1/alerts` to the first containment action's activity
 * starting (built-in agent-credential-leak playbook, severity high: containment is automatic, after
 * the assess phase's announce). Baseline, same run and server: starting a bare workflow that runs one
 * activity. Target: p50 ≤ 1.5× the baseline.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { actionRunOf } from '../db/action-runs';
import { percentile, postAlert, report, startBenchStack } from './lib/stack';

const RUNS = Number(process.env.BENCH_CONTAINMENT_RUNS ?? 30);

export async function benchContainment() {
  const stack = await startBenchStack({ drill: true });
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

    const lat: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Measured one at a time, as the baseline is: the previous incident's investigate phase
      // (seven evidence collections) would otherwise share the worker with this one's start.
      if (i > 0) await new Promise((r) => setTimeout(r, 1000));
      const t0 = Date.now();
      const incidentId = await postAlert(stack.api.url, {
        title: 'Agent key seen on paste site',
        severity: 'high',
        source: 'bench',
        dedup_key: `contain-${i}`,
        agent_id: `agent-${i}`,
        labels: { incident_class: 'credential_leak' },
      });
      for (;;) {
        const row = await actionRunOf(stack.services.db, incidentId, 'disable_agent');
        if (row) {
          lat.push(Date.parse(row.startedAt) - t0);
          break;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    base.sort((a, b) => a - b);
    lat.sort((a, b) => a - b);
    report('containment', 'baseline_p50', percentile(base, 50), 'ms', { runs: RUNS });
    report('containment', 'alert_to_containment_p50', percentile(lat, 50), 'ms', { runs: RUNS });
    report('containment', 'alert_to_containment_p99', percentile(lat, 99), 'ms');
    report('containment', 'p50_ratio_vs_baseline', percentile(lat, 50) / percentile(base, 50), 'x', {
      target: '<= 1.5',
    });
  } finally {
    await stack.close();
  }
}
