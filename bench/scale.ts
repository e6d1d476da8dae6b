/**
 * scale: 1,000 incidents that each wait on an approval, on one worker process (the built-in
 * agent-credential-leak playbook at severity medium gates containment on an approval). Reports
 * the time until every incident waits at its approval, and the worker's resident memory: its
 * peak (VmHWM) and its RSS once all wait. The API and the Temporal server are separate processes.
 * Target: RSS < 1 GiB.
 */
import { count, eq, and } from 'drizzle-orm';
import fs from 'node:fs';
import { playbookSteps } from '../db/schema';
import { startProcessStack } from './lib/processes';
import { BENCH_WEBHOOK_SECRET, report } from './lib/stack';

/** VmRSS and VmHWM (peak) of a process, in bytes, from /proc. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
}

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
          const res = await fetch(`${stack.url}/v1/alerts`, {
            method: 'POST',
            headers: { authorization: `Bearer ${BENCH_WEBHOOK_SECRET}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              title: `Agent credential used from new ASN ${i}`,
              severity: 'medium',
              source: 'bench',
              dedup_key: `scale-${i}`,
              agent_id: `agent-${i}`,
              labels: { incident_class: 'credential_leak' },
            }),
          });
          if (res.status !== 202) throw new Error(`alert ${i}: HTTP ${res.status}`);
        }
      }),
    );
    const accepted = performance.now() - t0;
    let waiting = 0;
    let rss = rss0;
    const deadline = Date.now() + 20 * 60_000;
    while (waiting < N && Date.now() < deadline) {
      waiting =
        stack.db
          .select({ n: count() })
          .from(playbookSteps)
          .where(and(eq(playbookSteps.stepId, 'approve_disable'), eq(playbookSteps.status, 'waiting')))
          .get()?.n ?? 0;
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
