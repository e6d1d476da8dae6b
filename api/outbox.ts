/**
 * The intake outbox dispatcher: delivers stored alerts to their incident workflows. It drains
 * undispatched rows in seq order, one signal per incident per batch (signal-with-start until the
 * workflow is known to run), so a storm of thousands of alerts costs a handful of history events.
 * It runs after every intake (kick) and on start, which is what makes a crash between the 202 and
 * the dispatch lose nothing. Delivery is at-least-once; the workflow drops batches it has already
 * counted (AlertBatch.toSeq).
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { and, count, eq, isNull, lte, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import { alerts, incidents } from '../db/schema';
import type { AlertBatch, IncidentStart, PinnedPlaybook } from '../domain/incident';
import { drillStartOptions } from '../drills/store';
import { loadPlaybookDir } from '../playbooks/loader';
import { selectPlaybook } from '../playbooks/select';
import type { TemporalHandle } from '../temporal/client';
import { alertsAttached } from '../workflows/messages';
import type { runIncident } from '../workflows/run-incident';

export interface OutboxOptions {
  db: Db;
  temporal: TemporalHandle;
  log: Logger;
  batchSize?: number;
  /** Delay before retrying after Temporal was unreachable. */
  retryDelayMs?: number;
  /** Pause between passes while alerts keep arriving, so kicks from a burst share a pass. */
  coalesceMs?: number;
  /**
   * At most one signal per incident per this interval: later alerts of a storm wait and go
   * together in the next batch. An incident's first alert is never held back.
   */
  incidentIntervalMs?: number;
  /** Playbooks to choose from when an incident starts; default: the built-in ones. */
  playbooks?: PinnedPlaybook[];
}

/** How many incidents are dispatched concurrently in one pass. */
const DISPATCH_LANES = 8;

/** How many running incidents the outbox remembers; forgetting one costs one signal-with-start. */
const KNOWN_STARTED_MAX = 10_000;

/** The per-pass queries, prepared once (building them per pass showed up in the ingest profile). */
function prepareQueries(db: Db, batchSize: number) {
  const p = sql.placeholder;
  return {
    undispatched: db
      .select({
        seq: alerts.seq,
        id: alerts.id,
        incidentId: alerts.incidentId,
        title: alerts.title,
        status: alerts.status,
        receivedAt: alerts.receivedAt,
      })
      .from(alerts)
      .where(isNull(alerts.dispatchedAt))
      .orderBy(alerts.seq)
      .limit(batchSize)
      .prepare(),
    incident: db
      .select()
      .from(incidents)
      .where(eq(incidents.id, p('id')))
      .prepare(),
    countUpTo: db
      .select({ n: count() })
      .from(alerts)
      .where(and(eq(alerts.incidentId, p('id')), lte(alerts.seq, p('seq'))))
      .prepare(),
    markDispatched: db
      .update(alerts)
      .set({ dispatchedAt: sql`${p('at')}` })
      .where(eq(alerts.seq, p('seq')))
      .prepare(),
    firstLabels: db
      .select({ labels: alerts.labels })
      .from(alerts)
      .where(eq(alerts.incidentId, p('id')))
      .orderBy(alerts.seq)
      .limit(1)
      .prepare(),
  };
}

export class Outbox {
  private running = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private deferTimer: NodeJS.Timeout | undefined;
  /** When each incident was last signalled (only within the last interval). */
  private readonly lastSent = new Map<string, number>();
  /**
   * Incidents whose workflow this process has started or found running. Their later batches go
   * as a plain signal: no playbook selection, no start input (the whole pinned playbook) to encode
   * and send again, and a lighter call for the Temporal server. Lost on restart and bounded
   * (oldest first out), which only means that incident's next batch goes through
   * signal-with-start again. Closed incidents leave it when a batch finds them closed.
   */
  private readonly started = new Set<string>();
  private idle: Promise<void> = Promise.resolve();

  private readonly q: ReturnType<typeof prepareQueries>;

  constructor(private readonly opts: OutboxOptions) {
    this.q = prepareQueries(opts.db, opts.batchSize ?? 5000);
  }

  private playbooks(): PinnedPlaybook[] {
    this.opts.playbooks ??= loadPlaybookDir();
    return this.opts.playbooks;
  }

  /** Schedules a drain; concurrent kicks coalesce into one more pass. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.deferTimer) clearTimeout(this.deferTimer);
    await this.idle;
  }

  /** Resolves when nothing is left to dispatch (for tests and graceful shutdown). */
  async drained(): Promise<void> {
    for (;;) {
      await this.idle;
      if (!this.running && this.pendingCount() === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  pendingCount(): number {
    return this.opts.db.select({ n: count() }).from(alerts).where(isNull(alerts.dispatchedAt)).get()?.n ?? 0;
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopped && (await this.drainOnce()) > 0) {
          await new Promise((r) => setTimeout(r, this.opts.coalesceMs ?? 10));
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      this.opts.log.warn({ err }, 'alert dispatch failed; retrying');
      this.timer = setTimeout(() => this.kick(), this.opts.retryDelayMs ?? 1000);
    } finally {
      this.running = false;
    }
  }

  /** One pass: dispatch every incident's pending alerts (up to batchSize rows). Returns rows done. */
  private async drainOnce(): Promise<number> {
    const { db } = this.opts;
    const rows = this.q.undispatched.all();
    if (rows.length === 0) return 0;
    const byIncident = new Map<string, typeof rows>();
    for (const r of rows) {
      const list = byIncident.get(r.incidentId) ?? [];
      list.push(r);
      byIncident.set(r.incidentId, list);
    }
    // An incident signalled within the interval waits; a timer brings the next pass.
    const interval = this.opts.incidentIntervalMs ?? 500;
    const now = Date.now();
    let wakeAt = Infinity;
    const entries: [string, typeof rows][] = [];
    for (const [incidentId, list] of byIncident) {
      const last = this.lastSent.get(incidentId);
      if (last !== undefined && now - last < interval) wakeAt = Math.min(wakeAt, last + interval);
      else entries.push([incidentId, list]);
    }
    for (const [id, at] of this.lastSent) if (now - at >= interval) this.lastSent.delete(id);
    if (wakeAt !== Infinity && !this.deferTimer) {
      this.deferTimer = setTimeout(
        () => {
          this.deferTimer = undefined;
          this.kick();
        },
        Math.max(1, wakeAt - now),
      );
    }
    // Incidents are independent: dispatch several at once (each incident's alerts stay in order).
    let next = 0;
    const done: { seq: number; at: string }[] = [];
    let failure: { err: unknown } | undefined;
    const lane = async () => {
      while (next < entries.length && !failure) {
        const [incidentId, list] = entries[next++]!;
        try {
          await this.dispatch(incidentId, list);
        } catch (err) {
          failure ??= { err };
          return;
        }
        this.lastSent.set(incidentId, Date.now());
        const at = new Date().toISOString();
        for (const r of list) done.push({ seq: r.seq, at });
      }
    };
    await Promise.all(Array.from({ length: Math.min(DISPATCH_LANES, entries.length) }, lane));
    // One transaction (one fsync) marks the whole pass; what was signalled before a failure is
    // marked too. A crash before this line re-sends those batches, which the workflow drops.
    db.transaction(() => {
      for (const d of done) this.q.markDispatched.run(d);
    });
    if (failure) throw failure.err;
    return done.length;
  }

  private async dispatch(
    incidentId: string,
    list: { seq: number; id: string; title: string; status: 'firing' | 'resolved'; receivedAt: string }[],
  ): Promise<void> {
    const { db, temporal } = this.opts;
    const inc = this.q.incident.get({ id: incidentId });
    if (!inc || inc.status === 'closed') {
      this.started.delete(incidentId);
      return; // counted in the DB; a closed workflow takes no signals
    }
    const last = list[list.length - 1]!;
    const total = this.q.countUpTo.get({ id: incidentId, seq: last.seq })?.n ?? 0;
    const batch: AlertBatch = {
      toSeq: last.seq,
      totalCount: total,
      latestAlertId: last.id,
      latestTitle: last.title,
      latestStatus: last.status,
      lastSeenAt: last.receivedAt,
    };
    if (this.started.has(incidentId)) {
      try {
        await temporal.client.workflow.getHandle(inc.workflowId).signal(alertsAttached, batch);
        return;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        // It ended meanwhile: signal-with-start below says so (already started) and drops the batch.
        this.started.delete(incidentId);
      }
    }
    // The playbook is chosen from the incident's first alert and pinned into the start input;
    // a running workflow ignores these args, so later alerts never change its playbook.
    const first = this.q.firstLabels.get({ id: incidentId });
    const labels = first?.labels ?? {};
    // A playbook named on the incident (an intake routing rule, a drill) wins over matching.
    const named = inc.playbookId ? this.playbooks().find((p) => p.id === inc.playbookId) : undefined;
    if (inc.playbookId && !named) {
      this.opts.log.warn({ incidentId, playbookId: inc.playbookId }, 'unknown playbook; matching instead');
    }
    const playbook =
      named ??
      selectPlaybook(this.playbooks(), {
        severity: inc.severity,
        source: inc.source,
        title: inc.title,
        labels,
      });
    const start: IncidentStart = {
      incidentId,
      key: inc.key,
      mode: inc.mode,
      source: inc.source,
      title: inc.title,
      severity: inc.severity,
      agentId: inc.agentId ?? undefined,
      openedAt: inc.openedAt,
      labels,
      ...(playbook ? { playbook } : {}),
      ...(inc.mode === 'drill' ? await drillStartOptions(db, incidentId) : {}),
    };
    try {
      await temporal.client.workflow.signalWithStart<typeof runIncident, [AlertBatch]>('runIncident', {
        workflowId: inc.workflowId,
        taskQueue: temporal.taskQueue,
        args: [start],
        signal: alertsAttached,
        signalArgs: [batch],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      this.started.add(incidentId);
      if (this.started.size > KNOWN_STARTED_MAX) this.started.delete(this.started.values().next().value!);
    } catch (err) {
      // The run already ended (closed while these alerts were in flight): nothing to tell it.
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      throw err;
    }
  }
}
