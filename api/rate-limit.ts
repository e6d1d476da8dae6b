/**
 * Per-source token buckets, one token per alert: each source may burst up to `burst` alerts and
 * then `perSecond` sustained, however it batches them. In memory, per process: the limit protects
 * this API instance and the SQLite writer from a runaway sender; it is not a billing quota.
 */
import type { RateLimit } from '../app/config-file';

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limitFor: (key: string) => RateLimit) {}

  private refill(key: string, nowMs: number): { bucket: Bucket; limit: RateLimit } {
    const limit = this.limitFor(key);
    const bucket = this.buckets.get(key) ?? { tokens: limit.burst, at: nowMs };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * limit.perSecond);
    bucket.at = nowMs;
    this.buckets.set(key, bucket);
    return { bucket, limit };
  }

  /**
   * Whole seconds until `count` tokens could be taken (0: now). A count above the burst needs a
   * full bucket, which it then overdraws: such a batch is admitted, and the source waits longer
   * afterwards, rather than being refused forever.
   */
  wait(key: string, nowMs: number, count = 1): number {
    const { bucket, limit } = this.refill(key, nowMs);
    const needed = Math.min(count, limit.burst);
    if (bucket.tokens >= needed) return 0;
    return Math.max(1, Math.ceil((needed - bucket.tokens) / limit.perSecond));
  }

  /** Takes `count` tokens: 0 when allowed, else the whole seconds to wait before retrying. */
  take(key: string, nowMs: number, count = 1): number {
    const wait = this.wait(key, nowMs, count);
    if (wait === 0) this.buckets.get(key)!.tokens -= count;
    return wait;
  }
}
