/**
 * Intake's per-process figures: refusal counters kept as plain numbers, and histograms of the
 * durable write that every 202 waits for (how long each group commit took, and how many requests
 * it carried). api/metrics.ts exports them at /metrics. One instance per app, injected.
 */
import { Histogram } from 'prom-client';
import type { AuthFailure } from './intake-auth';

/** Seconds: an fsync on local disk is ~1 ms; a lock wait behind the worker's writes is longer. */
export const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];
export const GROUP_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200];

export class IntakeMetrics {
  readonly authFailures: Record<AuthFailure, number> = {
    missing_credentials: 0,
    bad_bearer: 0,
    malformed_signature: 0,
    stale_timestamp: 0,
    bad_signature: 0,
    bad_routing_key: 0,
    signature_required: 0,
    replayed_signature: 0,
  };
  /** Alerts stored, by source. */
  readonly accepted: Record<string, number> = {};
  /** Requests refused with 429, by source. */
  readonly rateLimited: Record<string, number> = {};
  /** Requests refused with 400 or 413 after authentication, by source. */
  readonly invalid: Record<string, number> = {};
  /** Registered into each scrape's registry by api/metrics.ts, never into the global one. */
  readonly commitSeconds = new Histogram({
    name: 'firebreak_intake_commit_seconds',
    help: 'Duration of each intake group commit (SQLite transaction and fsync) that 202s wait for; per process',
    buckets: COMMIT_BUCKETS,
    registers: [],
  });
  readonly commitRequests = new Histogram({
    name: 'firebreak_intake_commit_requests',
    help: 'Intake requests written by each group commit; per process',
    buckets: GROUP_BUCKETS,
    registers: [],
  });

  count(map: Record<string, number>, key: string, n = 1): void {
    map[key] = (map[key] ?? 0) + n;
  }

  observeCommit(seconds: number, requests: number): void {
    this.commitSeconds.observe(seconds);
    this.commitRequests.observe(requests);
  }
}
