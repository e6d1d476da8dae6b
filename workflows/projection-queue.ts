/**
 * The incident's projection writes (its start, steps, phases, timeline events): the DB rows the API
 * and the console read. Writes are queued and flushed by one local activity per workflow task, in
 * order and in one transaction, so a task that moves several steps costs one SQLite write and no
 * server round trip. Every write is idempotent (upserts, timeline event keys): a retried flush is
 * safe. A flush whose error can never succeed (non-retryable, e.g. the incident has no row) fails
 * the incident workflow; a retryable one that outlasts the local activity's bounded retries is
 * tried again after a workflow timer, so a long database outage never spins a workflow task.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  proxyLocalActivities,
  sleep,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProjectionWrite } from '../activities/incidents';

/** Bounded: a local activity must end within a few workflow task heartbeats (see README, Tests). */
export const LOCAL_ACTIVITY_OPTIONS = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumAttempts: 8,
  },
} as const;

const RETRY_FLUSH_AFTER = '30 seconds';

export const localProjections = proxyLocalActivities<Activities>(LOCAL_ACTIVITY_OPTIONS);

export type ProjectionKind = ProjectionWrite['kind'];
export type ProjectionInput<K extends ProjectionKind> = Extract<ProjectionWrite, { kind: K }>['input'];

/** An activity failure that no retry can fix: the error says so itself. */
export function isPermanent(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.nonRetryable === true
  );
}

export class ProjectionQueue {
  private readonly queue: ProjectionWrite[] = [];
  private flushing = false;
  private queued = 0;
  private written = 0;
  /** Set once a flush failed permanently; the incident workflow fails with it. */
  failure: unknown;

  /** Starts the flush loop for the life of the run. */
  start(): void {
    void this.flushLoop();
  }

  /** Queues a write; it reaches the DB with the next flush. */
  record<K extends ProjectionKind>(kind: K, input: ProjectionInput<K>): void {
    this.queue.push({ kind, input } as ProjectionWrite);
    this.queued++;
  }

  /** Queues a write and returns once it is in the DB (update results that the caller reads back). */
  async recorded<K extends ProjectionKind>(kind: K, input: ProjectionInput<K>): Promise<void> {
    this.record(kind, input);
    const mine = this.queued;
    await condition(() => this.written >= mine || this.failure !== undefined);
    if (this.failure !== undefined) throw this.failure;
  }

  /** Nothing queued and no flush running. */
  idle(): boolean {
    return this.queue.length === 0 && !this.flushing;
  }

  private async flushLoop(): Promise<void> {
    for (;;) {
      await condition(() => this.queue.length > 0);
      const writes = this.queue.splice(0, this.queue.length);
      this.flushing = true;
      try {
        await this.flush(writes);
      } catch (err) {
        this.failure = err;
        return;
      } finally {
        this.flushing = false;
      }
      this.written += writes.length;
    }
  }

  private async flush(writes: ProjectionWrite[]): Promise<void> {
    for (;;) {
      try {
        await localProjections.recordProjections({ writes });
        return;
      } catch (err) {
        if (!(err instanceof ActivityFailure) || isPermanent(err)) throw err;
        await sleep(RETRY_FLUSH_AFTER);
      }
    }
  }
}
