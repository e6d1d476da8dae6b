/**
 * The incident's projection writes (its start, steps, phases, timeline events): the DB rows the API
 * and the console read. Writes are queued and flushed by an activity, in order and in one
 * transaction; writes queued while a flush runs go together in the next, so a task that moves
 * several steps costs a write or two. Nothing in the workflow waits for a flush before it goes on
 * (an action is scheduled in the same task as the writes that precede it). Every write is
 * idempotent (upserts, timeline event keys): a retried flush is safe. A flush whose error can never
 * succeed (non-retryable, e.g. the incident has no row) fails the incident workflow; a retryable
 * one is retried by the server with backoff, so a long database outage never holds a workflow task.
 *
 * Why a regular activity and not a local one: when a flush ends decides whether the next write
 * starts a flush of its own or joins the queue, and so how many flushes there are and which
 * command sequence numbers the actions after them get. A regular activity's completion is an event
 * in the history, delivered on replay exactly where it was delivered live. A local activity's
 * resolution is not: the worker can hand it to the workflow together with the events of the next
 * workflow task (after them) while replay hands it over in the task whose completion recorded its
 * marker. A flush that ended "late" live and "early" on replay made replay start one flush more,
 * and every activity after it had another id (TMPRL1100), whenever activities completed while
 * another task ran: background steps, parallel branches (test/workflows/projection-replay.test.ts).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProjectionWrite } from '../activities/incidents';

/**
 * Retried until the database answers (with backoff, by the server); only a non-retryable error
 * (the error says no retry can fix it) ends the flush.
 */
const projectionWrites = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

/** Writes an update handler waits for before it returns: not queued behind other writes. */
export const updateWrites = projectionWrites;

export type ProjectionKind = ProjectionWrite['kind'];
export type ProjectionInput<K extends ProjectionKind> = Extract<ProjectionWrite, { kind: K }>['input'];

/**
 * A flush starts in the same activation as the write that needs it, or as the completion of the
 * flush before it (an event in the history), so its place among the workflow's commands replays
 * identically.
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
      while (this.queue.length > 0)
        await projectionWrites.recordProjections({ writes: this.queue.splice(0, this.queue.length) });
    } catch (err) {
      // Only a non-retryable error gets here; the workflow fails with it (IncidentLifecycle.nextChange).
      this.failure = err;
    } finally {
      this.flushing = false;
    }
  }
}
