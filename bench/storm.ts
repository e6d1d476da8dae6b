/**
 * storm: time to drain 10,000 alerts over 50 keys into their incidents, end to end (HTTP in,
 * workflow state updated). Checks exactly 50 incidents and reports the workflow-history events
 * per incident, which batching keeps far below one per alert. It also reports the CPU time the
 * storm cost Firebreak (this process: load generator, API and worker) and the Temporal server;
 * unlike wall-clock time, CPU time does not grow when the host steals cycles from this VM.
 */
import { withBenchPostgres } from './lib/postgres';
import { cpuSecondsOf, stolenSeconds } from './lib/proc';
import { postAlert, report, report as reportFigure, startBenchStack } from './lib/stack';

function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const ALERTS = Number(process.env.BENCH_STORM_ALERTS ?? 10_000);
const KEYS = 50;
const CONCURRENCY = 32;

/** The storm on SQLite, then on PostgreSQL (a local durable cluster), and their ratio. */
export async function benchStorm() {
  const sqlite = await stormOn('sqlite', {});
  const pg = await withBenchPostgres((url) => stormOn('postgres', { DATABASE_URL: url }));
  report('storm', 'postgres_vs_sqlite_drain_all', pg.drained / sqlite.drained, 'x', {
    sqlite_ms: Math.round(sqlite.drained),
    postgres_ms: Math.round(pg.drained),
  });
  report('storm', 'postgres_vs_sqlite_accept_all', pg.accepted / sqlite.accepted, 'x', {
    sqlite_ms: Math.round(sqlite.accepted),
    postgres_ms: Math.round(pg.accepted),
  });
}

async function stormOn(store: 'sqlite' | 'postgres', env: Record<string, string>) {
  const stack = await startBenchStack({ env });
  const report = (bench: string, metric: string, value: number, unit: string, extra = {}) =>
    reportFigure(bench, metric, value, unit, { store, ...extra });
  try {
    const ids = new Set<string>();
    let next = 0;
    const serverPid = stack.target.devServer?.pid;
    if (serverPid === undefined)
      throw new Error('storm measures the CPU of the embedded Temporal dev server');
    const cpu0 = { own: ownCpuSeconds(), server: cpuSecondsOf(serverPid), stolen: stolenSeconds() };
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ALERTS) {
          const i = next++;
          ids.add(
            await postAlert(stack.api.url, {
              title: `storm ${i % KEYS}`,
              severity: 'medium',
              source: 'mon',
              dedup_key: `storm-${i % KEYS}`,
            }),
          );
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
      temporal_server_s: Number((cpuSecondsOf(serverPid) - cpu0.server).toFixed(2)),
      host_stolen_s: Number((stolenSeconds() - cpu0.stolen).toFixed(2)),
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
      ((cpu.firebreak_process_s + cpu.temporal_server_s) * 1000) / ALERTS,
      'ms',
      cpu,
    );
    report('storm', 'history_events_per_incident_max', events[events.length - 1] ?? 0, 'events', {
      median: events[Math.floor(events.length / 2)],
      alerts_per_incident: ALERTS / KEYS,
    });
    if (ids.size !== KEYS) throw new Error(`expected ${KEYS} incidents, got ${ids.size}`);
    return { accepted, drained };
  } finally {
    await stack.close();
  }
}
