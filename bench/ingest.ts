/**
 * ingest: throughput and latency of `POST /v1/alerts` with auth, validation, the durable SQLite
 * write and dedup (then the same on PostgreSQL, with the ratio), against a baseline measured in the same run: a bare Hono handler on the same
 * server library answering 202 to the same body. Both servers run as their own processes (the API
 * beside a separate worker process, as deployed); this process only generates the load.
 * Target: ≥ 0.5× the baseline's throughput, and p99 < 25 ms at a fixed 1,000 alerts/s.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import type { Db } from '../db/client';
import { undispatchedAlertCount } from '../db/incident-alerts';
import { runEntry } from '../test/helpers/process';
import { histogram, valueOf } from '../test/helpers/prometheus';
import { withBenchPostgres } from './lib/postgres';
import { startProcessStack } from './lib/processes';
import { BENCH_ADMIN_TOKEN, BENCH_WEBHOOK_SECRET, report } from './lib/stack';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);

function body(i: number) {
  return JSON.stringify({
    title: `Agent anomaly ${i % 200}`,
    severity: 'high',
    source: 'gateway',
    dedup_key: `ingest-${i % 200}`,
    agent_id: `agent-${i % 50}`,
    labels: { env: 'prod' },
  });
}

async function load(url: string, opts: { rate?: number }) {
  let i = 0;
  const result = await autocannon({
    url: `${url}/v1/alerts`,
    method: 'POST',
    connections: 20,
    duration: DURATION_S,
    ...(opts.rate ? { overallRate: opts.rate } : {}),
    headers: { authorization: `Bearer ${BENCH_WEBHOOK_SECRET}`, 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: body(i++) }) }],
  });
  const non2xx = result.non2xx + result.errors;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx,
    total: result.requests.total,
  };
}

async function waitDispatched(db: Db, timeoutMs = 120_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const n = await undispatchedAlertCount(db);
    if (n === 0) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${n} alerts still undispatched after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The disk's floor for a durable write: 4 KiB write + fdatasync, 2,000 times, in the temp dir the
 * benchmark's database lives in. Every 202 waits for at least one of these.
 */
function fsyncProbe() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-fsync-')), 'probe');
  const fd = fs.openSync(file, 'w');
  const page = Buffer.alloc(4096, 1);
  const ms: number[] = [];
  try {
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      fs.writeSync(fd, page, 0, page.length, (i % 256) * page.length);
      fs.fdatasyncSync(fd);
      ms.push(performance.now() - t0);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
  ms.sort((a, b) => a - b);
  const q = (f: number) => Number(ms[Math.floor(f * (ms.length - 1))]!.toFixed(3));
  return { p50: q(0.5), p99: q(0.99), max: q(1) };
}

/** The API process's own figures (GET /metrics); scraping also resets its event-loop lag window. */
async function scrape(url: string) {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
  const text = await res.text();
  return {
    at: performance.now(),
    commitSeconds: histogram(text, 'firebreak_intake_commit_seconds', {}),
    commitRequests: histogram(text, 'firebreak_intake_commit_requests', {}),
    cpuSeconds: valueOf(text, 'process_cpu_seconds_total', {}) ?? 0,
    lagP99: valueOf(text, 'nodejs_eventloop_lag_p99_seconds', {}) ?? NaN,
  };
}

/** The upper bound (ms) of the bucket holding quantile q of the commits between two scrapes. */
function commitQuantileMs(a: Awaited<ReturnType<typeof scrape>>, b: typeof a, q: number): number {
  const total = (b.commitSeconds.count ?? 0) - (a.commitSeconds.count ?? 0);
  const bounds = Object.keys(b.commitSeconds.buckets)
    .filter((le) => le !== '+Inf')
    .map(Number)
    .sort((x, y) => x - y);
  for (const le of bounds) {
    const n = (b.commitSeconds.buckets[String(le)] ?? 0) - (a.commitSeconds.buckets[String(le)] ?? 0);
    if (n >= q * total) return le * 1000;
  }
  return Infinity;
}

/**
 * Where a request's time went while `run` loaded the API: its CPU use (share of one core), the
 * group commits every 202 waits for, and how late its event loop ran (p99 over the run).
 */
async function breakdown<T>(url: string, run: () => Promise<T>) {
  const a = await scrape(url);
  const result = await run();
  const b = await scrape(url);
  const commits = (b.commitSeconds.count ?? 0) - (a.commitSeconds.count ?? 0);
  return {
    result,
    api: {
      cpu_cores: Number(((b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000)).toFixed(2)),
      commits,
      requests_per_commit: Number(
        (((b.commitRequests.sum ?? 0) - (a.commitRequests.sum ?? 0)) / Math.max(commits, 1)).toFixed(1),
      ),
      commit_mean_ms: Number(
        ((((b.commitSeconds.sum ?? 0) - (a.commitSeconds.sum ?? 0)) * 1000) / Math.max(commits, 1)).toFixed(
          2,
        ),
      ),
      commit_p50_le_ms: commitQuantileMs(a, b, 0.5),
      commit_p99_le_ms: commitQuantileMs(a, b, 0.99),
      event_loop_lag_p99_ms: Number((b.lagP99 * 1000).toFixed(1)),
    },
  };
}

export async function benchIngest() {
  const disk = fsyncProbe();
  report('ingest', 'disk_fsync_p99', disk.p99, 'ms', { p50: disk.p50, max: disk.max });
  const base = runEntry('bench/baseline-server.ts', {});
  const baseUrl = (await base.waitFor(/baseline ready: (\S+)/))[1]!;
  const baseMax = await load(baseUrl, {});
  const baseFixed = await load(baseUrl, { rate: 1000 });
  await base.stop();

  const stack = await startProcessStack();
  let sqliteMax: Awaited<ReturnType<typeof load>>;
  let sqliteFixedP99: number;
  try {
    const max = await load(stack.url, {});
    const { result: fixed, api: fixedApi } = await breakdown(stack.url, () =>
      load(stack.url, { rate: 1000 }),
    );
    sqliteMax = max;
    sqliteFixedP99 = fixed.p99;
    const drainMs = await waitDispatched(stack.db);
    // Diagnostic: the same fixed rate with the worker process stopped, i.e. without the 2 cores
    // being shared with workflow and activity execution (the outbox still signals Temporal).
    await stack.worker.stop();
    const { result: alone, api: aloneApi } = await breakdown(stack.url, () =>
      load(stack.url, { rate: 1000 }),
    );
    const aloneMax = await load(stack.url, {});
    report('ingest', 'baseline_max_rps', baseMax.rps, 'req/s');
    report('ingest', 'max_rps', max.rps, 'req/s', { errors: max.non2xx });
    report('ingest', 'throughput_ratio_vs_baseline', max.rps / baseMax.rps, 'x', { target: '>= 0.5' });
    report('ingest', 'p50_at_max', max.p50, 'ms');
    report('ingest', 'p99_at_max', max.p99, 'ms');
    report('ingest', 'baseline_p99_at_1000_rps', baseFixed.p99, 'ms');
    report('ingest', 'p50_at_1000_rps', fixed.p50, 'ms');
    report('ingest', 'p99_at_1000_rps', fixed.p99, 'ms', {
      target: '< 25',
      errors: fixed.non2xx,
      achieved_rps: fixed.rps,
    });
    report(
      'ingest',
      'api_process_at_1000_rps',
      fixedApi.event_loop_lag_p99_ms,
      'ms event-loop lag p99',
      fixedApi,
    );
    report('ingest', 'p99_ratio_vs_baseline_at_1000_rps', fixed.p99 / Math.max(baseFixed.p99, 1), 'x');
    report('ingest', 'outbox_backlog_drained_after_load', drainMs, 'ms');
    report('ingest', 'max_rps_worker_stopped', aloneMax.rps, 'req/s', {
      ratio_vs_baseline: Number((aloneMax.rps / baseMax.rps).toFixed(3)),
      p99: aloneMax.p99,
    });
    report('ingest', 'p99_at_1000_rps_worker_stopped', alone.p99, 'ms', {
      p50: alone.p50,
      achieved_rps: alone.rps,
      errors: alone.non2xx,
    });
    report(
      'ingest',
      'api_process_at_1000_rps_worker_stopped',
      aloneApi.event_loop_lag_p99_ms,
      'ms event-loop lag p99',
      aloneApi,
    );
  } finally {
    await stack.close();
  }
  // The same loads against PostgreSQL (DATABASE_URL; a local cluster with fsync on), same run.
  await withBenchPostgres(async (url) => {
    const pgStack = await startProcessStack({ env: { DATABASE_URL: url } });
    try {
      const pgMax = await load(pgStack.url, {});
      const { result: pgFixed, api: pgApi } = await breakdown(pgStack.url, () =>
        load(pgStack.url, { rate: 1000 }),
      );
      const pgDrainMs = await waitDispatched(pgStack.db);
      const store = { store: 'postgres' };
      report('ingest', 'max_rps', pgMax.rps, 'req/s', { ...store, errors: pgMax.non2xx, p99: pgMax.p99 });
      report('ingest', 'p99_at_1000_rps', pgFixed.p99, 'ms', {
        ...store,
        p50: pgFixed.p50,
        errors: pgFixed.non2xx,
        achieved_rps: pgFixed.rps,
      });
      report('ingest', 'api_process_at_1000_rps', pgApi.event_loop_lag_p99_ms, 'ms event-loop lag p99', {
        ...store,
        ...pgApi,
      });
      report('ingest', 'outbox_backlog_drained_after_load', pgDrainMs, 'ms', store);
      report('ingest', 'postgres_vs_sqlite_max_rps', pgMax.rps / sqliteMax.rps, 'x', {
        sqlite_rps: sqliteMax.rps,
        postgres_rps: pgMax.rps,
      });
      report('ingest', 'postgres_vs_sqlite_p99_at_1000_rps', pgFixed.p99 / Math.max(sqliteFixedP99, 1), 'x', {
        sqlite_ms: sqliteFixedP99,
        postgres_ms: pgFixed.p99,
      });
    } finally {
      await pgStack.close();
    }
  });
}
