/**
 * Group commit for alert intake. With `synchronous=FULL` every SQLite commit waits for an fsync
 * (PostgreSQL's for its WAL flush), so one transaction per request caps intake at the disk's fsync
 * rate. Requests that arrive while a commit is pending are queued and written together in the
 * next transaction, which starts once that commit is done: one fsync for the
 * group, and every request still answers only after its own alerts are durably committed. If a
 * group's transaction fails, each request is retried alone, so one bad batch fails only itself.
 */
import { storeAlertBatches, type IntakeBatch, type StoredAlert } from '../db/alerts';
import type { Db } from '../db/client';
import { incidentWorkflowId } from '../temporal/client';

interface Pending {
  batch: IntakeBatch;
  resolve(stored: StoredAlert[]): void;
  reject(err: unknown): void;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  /** A group's transaction is open: requests arriving meanwhile wait for the next group. */
  private committing = false;

  constructor(
    private readonly db: Db,
    /** Told each group transaction's duration and how many requests it carried. */
    private readonly onCommit?: (seconds: number, requests: number) => void,
  ) {}

  store(batch: IntakeBatch): Promise<StoredAlert[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.committing) return;
    this.scheduled = true;
    // After the I/O callbacks already due: requests parsed in this turn join the group.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const group = this.queue.splice(0, this.queue.length);
    if (group.length === 0) return;
    this.committing = true;
    try {
      await this.commit(group);
    } finally {
      this.committing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async commit(group: Pending[]): Promise<void> {
    const started = performance.now();
    let results: StoredAlert[][];
    try {
      results = await storeAlertBatches(
        this.db,
        group.map((p) => p.batch),
        incidentWorkflowId,
      );
    } catch {
      await this.storeEachAlone(group);
      return;
    }
    this.onCommit?.((performance.now() - started) / 1000, group.length);
    group.forEach((p, i) => p.resolve(results[i]!));
  }

  /** After a failed group: each request in its own transaction, so a bad one fails only itself. */
  private async storeEachAlone(group: Pending[]): Promise<void> {
    for (const p of group) {
      try {
        const [stored] = await storeAlertBatches(this.db, [p.batch], incidentWorkflowId);
        p.resolve(stored!);
      } catch (err) {
        p.reject(err);
      }
    }
  }
}
