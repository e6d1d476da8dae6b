/**
 * Per-source token buckets: each source may burst up to `burst` requests and then `perSecond`
 * sustained. In memory, per process: the limit protects this API instance and the SQLite writer
 * from a runaway sender; it is not a billing quota.
 */
import type { RateLimit } from '../app/config-file';

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limitFor: (key: string) => RateLimit) {}

  /** Takes one token: 0 when allowed, else the whole seconds to wait before retrying. */
  take(key: string, nowMs: number): number {
    const limit = this.limitFor(key);
    const b = this.buckets.get(key) ?? { tokens: limit.burst, at: nowMs };
    b.tokens = Math.min(limit.burst, b.tokens + ((nowMs - b.at) / 1000) * limit.perSecond);
    b.at = nowMs;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / limit.perSecond));
  }
}
