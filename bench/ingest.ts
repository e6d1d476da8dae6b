/**
 * ingest: throughput and latency of `POST /v1/alerts` with auth, validation, the durable SQLite
 * write and dedup, against a baseline measured in the same run: a bare Hono handler on the same
 * server library answering 202 to the same body. Both servers run as their own processes (the API
 * beside a separate worker process, as deployed); this process only generates the load.
 * Target: ≥ 0.5× the baseline's throughput, and p99 < 25 ms at a fixed 1,000 alerts/s.
 */
import autocannon from 'autocannon';
import { count, isNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { alerts } from '../db/schema';
import { runEntry } from '../test/helpers/process';
import { startProcessStack } from './lib/processes';
import { BENCH_WEBHOOK_SECRET, report } from './lib/stack';

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
    const n = db.select({ n: count() }).from(alerts).where(isNull(alerts.dispatchedAt)).get()?.n ?? 0;
    if (n === 0) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${n} alerts still undispatched after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function benchIngest() {
  const base = runEntry('bench/baseline-server.ts', {});
  const baseUrl = (await base.waitFor(/baseline ready: (\S+)/))[1]!;
  const baseMax = await load(baseUrl, {});
  const baseFixed = await load(baseUrl, { rate: 1000 });
  await base.stop();

  const stack = await startProcessStack();
  try {
    const max = await load(stack.url, {});
    const fixed = await load(stack.url, { rate: 1000 });
    const drainMs = await waitDispatched(stack.db);
    // Diagnostic: the same fixed rate with the worker process stopped, i.e. without the 2 cores
    // being shared with workflow and activity execution (the outbox still signals Temporal).
    await stack.worker.stop();
    const alone = await load(stack.url, { rate: 1000 });
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
  } finally {
    await stack.close();
  }
}
