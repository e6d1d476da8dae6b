/**
 * storm: time to drain 10,000 alerts over 50 keys into their incidents, end to end (HTTP in,
 * workflow state updated). Checks exactly 50 incidents and reports the workflow-history events
 * per incident, which batching keeps far below one per alert. It also reports the CPU time the
 * storm cost Firebreak (this process: load generator, API and worker) and the Temporal server;
 * unlike wall-clock time, CPU time does not grow when the host steals cycles from this VM.
 */
import fs from 'node:fs';
import os from 'node:os';
import { BENCH_WEBHOOK_SECRET, report, startBenchStack } from './lib/stack';

/** User + system CPU seconds of another process, from /proc (Linux). */
function processCpuSeconds(pid: number): number {
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(process.env.BENCH_CLK_TCK ?? 100);
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Host-stolen CPU seconds across all cores (the `steal` column of /proc/stat). */
function stolenSeconds(): number {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  return Number(cpu[8]) / Number(process.env.BENCH_CLK_TCK ?? 100);
}

const ALERTS = Number(process.env.BENCH_STORM_ALERTS ?? 10_000);
const KEYS = 50;
const CONCURRENCY = 32;

export async function benchStorm() {
  const stack = await startBenchStack();
  try {
    const ids = new Set<string>();
    let next = 0;
    const serverPid = stack.target.devServer?.pid;
    const cpu0 = {
      own: ownCpuSeconds(),
      server: serverPid ? processCpuSeconds(serverPid) : NaN,
      stolen: os.platform() === 'linux' ? stolenSeconds() : NaN,
    };
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ALERTS) {
          const i = next++;
          const res = await fetch(`${stack.api.url}/v1/alerts`, {
            method: 'POST',
            headers: { authorization: `Bearer ${BENCH_WEBHOOK_SECRET}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              title: `storm ${i % KEYS}`,
              severity: 'medium',
              source: 'mon',
              dedup_key: `storm-${i % KEYS}`,
            }),
          });
          if (res.status !== 202) throw new Error(`alert ${i}: HTTP ${res.status}`);
          ids.add(((await res.json()) as { incident_id: string }).incident_id);
        }
      }),
    );
    const accepted = performance.now() - t0;
    await stack.api.outbox.drained();
    const client = stack.api.temporal.client;
    let counted = 0;
    for (;;) {
      counted = 0;
      for (const id of ids) {
        const s = await client.workflow
          .getHandle(`incident-${id}`)
          .query<{ alertCount: number }>('incidentState');
        counted += s.alertCount;
      }
      if (counted >= ALERTS) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const drained = performance.now() - t0;
    const cpu = {
      firebreak_process_s: Number((ownCpuSeconds() - cpu0.own).toFixed(2)),
      temporal_server_s: serverPid ? Number((processCpuSeconds(serverPid) - cpu0.server).toFixed(2)) : null,
      host_stolen_s: os.platform() === 'linux' ? Number((stolenSeconds() - cpu0.stolen).toFixed(2)) : null,
    };
    const events: number[] = [];
    for (const id of ids) {
      const h = await client.workflow.getHandle(`incident-${id}`).fetchHistory();
      events.push(h.events?.length ?? 0);
    }
    events.sort((a, b) => a - b);
    report('storm', 'incidents', ids.size, 'count', { target: KEYS, alerts: ALERTS });
    report('storm', 'accept_all_ms', accepted, 'ms');
    report('storm', 'drain_all_ms', drained, 'ms', { alerts_per_s: Math.round((ALERTS / drained) * 1000) });
    report(
      'storm',
      'cpu_ms_per_alert',
      ((cpu.firebreak_process_s + (cpu.temporal_server_s ?? 0)) * 1000) / ALERTS,
      'ms',
      cpu,
    );
    report('storm', 'history_events_per_incident_max', events[events.length - 1] ?? 0, 'events', {
      median: events[Math.floor(events.length / 2)],
      alerts_per_incident: ALERTS / KEYS,
    });
    if (ids.size !== KEYS) throw new Error(`expected ${KEYS} incidents, got ${ids.size}`);
  } finally {
    await stack.close();
  }
}
