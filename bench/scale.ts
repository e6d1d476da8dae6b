/**
 * scale: 1,000 incidents that each wait on an approval, on one worker process (the built-in
 * agent-credential-leak playbook at severity medium gates containment on an approval). Reports
 * the time until every incident waits at its approval, and the worker's resident memory: its
 * peak (VmHWM) and its RSS once all wait. The API and the Temporal server are separate processes.
 * Target: RSS < 1 GiB.
 */
import { countStepsIn } from '../db/incident-projection';
import { memoryOf } from './lib/proc';
import { startProcessStack } from './lib/processes';
import { postAlert, report } from './lib/stack';

const N = Number(process.env.BENCH_SCALE_INCIDENTS ?? 1000);

export async function benchScale() {
  // The worker runs with the flags `npm run worker` uses (its heap limit, see package.json).
  const stack = await startProcessStack({ drill: true });
  const workerPid = stack.worker.proc.pid!;
  try {
    const rss0 = memoryOf(workerPid).rss;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < N) {
          const i = next++;
          await postAlert(stack.url, {
            title: `Agent credential used from new ASN ${i}`,
            severity: 'medium',
            source: 'bench',
            dedup_key: `scale-${i}`,
            agent_id: `agent-${i}`,
            labels: { incident_class: 'credential_leak' },
          });
        }
      }),
    );
    const accepted = performance.now() - t0;
    let waiting = 0;
    let rss = rss0;
    const deadline = Date.now() + 20 * 60_000;
    while (waiting < N && Date.now() < deadline) {
      waiting = await countStepsIn(stack.db, 'approve_disable', 'waiting');
      rss = memoryOf(workerPid).rss;
      await new Promise((r) => setTimeout(r, 250));
    }
    const all = performance.now() - t0;
    report('scale', 'incidents_waiting_on_approval', waiting, 'count', { target: N });
    report('scale', 'accept_all_ms', accepted, 'ms');
    report('scale', 'all_waiting_ms', all, 'ms', { incidents_per_s: Math.round((waiting / all) * 1000) });
    const mem = memoryOf(workerPid);
    report('scale', 'worker_rss_all_waiting_mib', rss / 2 ** 20, 'MiB', {
      target: '< 1024',
      rss_before_mib: Math.round(rss0 / 2 ** 20),
    });
    report('scale', 'worker_rss_peak_mib', mem.peak / 2 ** 20, 'MiB', { target: '< 1024' });
    if (waiting < N) throw new Error(`only ${waiting}/${N} incidents reached their approval`);
  } finally {
    await stack.close();
  }
}
