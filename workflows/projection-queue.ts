/**
 * The incident's projection writes (its start, steps, phases, timeline events): the DB rows the API
 * and the console read. Writes are queued and flushed by a local activity, in order and in one
 * transaction; writes queued while a flush runs go together in the next, so a task that moves
 * several steps costs a write or two and no server round trip. Every write is idempotent (upserts, timeline event keys): a retried flush is
 * safe. A flush whose error can never succeed (non-retryable, e.g. the incident has no row) fails
 * the incident workflow; a retryable one that outlasts the local activity's bounded retries is
 * tried again after a workflow timer, so a long database outage never spins a workflow task.
 *
 * Nothing an update handler returns waits on this queue: a write the caller must find when the
 * update returns (a decision on the timeline, the close) goes through `updateWrites`, a regular
 * activity. An update whose completion waited on a local activity was seen to replay differently
 * from its live run under load ("No command scheduled for event WorkflowExecutionUpdateCompleted").
 */
import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  proxyLocalActivities,
  sleep,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProjectionWrite } from '../activities/incidents';

/**
 * Bounded, like every local activity: it runs inside a workflow task, and one retried without end
 * holds its incident's task (and the worker slot) forever.
 */
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

/** Writes an update handler waits for before it returns (see the module comment). */
export const updateWrites = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

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

/**
 * A flush starts in the same activation as the write that needs it (never from a condition), so
 * its place among the workflow's commands follows from the code alone and replays identically;
 * writes queued while a flush runs go in the next one, started as soon as it returns.
 */

export class ProjectionQueue {
  private readonly queue: ProjectionWrite[] = [];
  private flushing = false;
  /** Set once a flush failed permanently; the incident workflow fails with it. */
  failure: unknown;

  /** Queues a write; it reaches the DB with the next flush. */
  record<K extends ProjectionKind>(kind: K, input: ProjectionInput<K>): void {
    this.enqueue({ kind, input } as ProjectionWrite);
  }

  /** Nothing queued and no flush running. */
  idle(): boolean {
    return this.queue.length === 0 && !this.flushing;
  }

  private enqueue(write: ProjectionWrite): void {
    if (this.failure !== undefined) throw this.failure;
    this.queue.push(write);
    if (!this.flushing) void this.drain();
  }

  private async drain(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) await this.flush(this.queue.splice(0, this.queue.length));
    } catch (err) {
      // The workflow fails with this error (IncidentLifecycle.nextChange).
      this.failure = err;
    } finally {
      this.flushing = false;
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
