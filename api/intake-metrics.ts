/**
 * Intake counters, kept in memory as plain numbers so the metrics issue can export them (e.g. as
 * Prometheus counters) without touching the intake code. One instance per app, injected.
 */
import type { AuthFailure } from './intake-auth';

export class IntakeMetrics {
  readonly authFailures: Record<AuthFailure, number> = {
    missing_credentials: 0,
    bad_bearer: 0,
    malformed_signature: 0,
    stale_timestamp: 0,
    bad_signature: 0,
    bad_routing_key: 0,
  };
  /** Alerts stored, by source. */
  readonly accepted: Record<string, number> = {};
  /** Requests refused with 429, by source. */
  readonly rateLimited: Record<string, number> = {};
  /** Requests refused with 400 or 413 after authentication, by source. */
  readonly invalid: Record<string, number> = {};

  count(map: Record<string, number>, key: string, n = 1): void {
    map[key] = (map[key] ?? 0) + n;
  }
}
