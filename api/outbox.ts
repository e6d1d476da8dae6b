/**
 * The intake outbox dispatcher: delivers stored alerts to their incident workflows. It drains
 * undispatched rows in seq order, one signal-with-start per incident per batch, so a storm of
 * thousands of alerts costs a handful of history events. It runs after every intake (kick) and
 * on start, which is what makes a crash between the 202 and the dispatch lose nothing. Delivery
 * is at-least-once; the workflow drops batches it has already counted (AlertBatch.toSeq).
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import { and, count, eq, inArray, isNull, lte } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import { alerts, incidents } from '../db/schema';
import type { AlertBatch, IncidentStart, PinnedPlaybook } from '../domain/incident';
import { drillStartExtras } from '../drills/store';
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
  /** Playbooks to choose from when an incident starts; default: the built-in ones. */
  playbooks?: PinnedPlaybook[];
}

/** How many incidents are dispatched concurrently in one pass. */
const DISPATCH_LANES = 8;

export class Outbox {
  private running = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly opts: OutboxOptions) {}

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
          // keep draining while there is work
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
    const rows = db
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
      .limit(this.opts.batchSize ?? 5000)
      .all();
    if (rows.length === 0) return 0;
    const byIncident = new Map<string, typeof rows>();
    for (const r of rows) {
      const list = byIncident.get(r.incidentId) ?? [];
      list.push(r);
      byIncident.set(r.incidentId, list);
    }
    // Incidents are independent: dispatch several at once (each incident's alerts stay in order).
    const entries = [...byIncident];
    let next = 0;
    const lane = async () => {
      while (next < entries.length) {
        const [incidentId, list] = entries[next++]!;
        await this.dispatch(incidentId, list);
        const at = new Date().toISOString();
        db.update(alerts)
          .set({ dispatchedAt: at })
          .where(
            inArray(
              alerts.seq,
              list.map((r) => r.seq),
            ),
          )
          .run();
      }
    };
    await Promise.all(Array.from({ length: Math.min(DISPATCH_LANES, entries.length) }, lane));
    return rows.length;
  }

  private async dispatch(
    incidentId: string,
    list: { seq: number; id: string; title: string; status: 'firing' | 'resolved'; receivedAt: string }[],
  ): Promise<void> {
    const { db, temporal } = this.opts;
    const inc = db.select().from(incidents).where(eq(incidents.id, incidentId)).get();
    if (!inc || inc.status === 'closed') return; // counted in the DB; a closed workflow takes no signals
    const last = list[list.length - 1]!;
    const total =
      db
        .select({ n: count() })
        .from(alerts)
        .where(and(eq(alerts.incidentId, incidentId), lte(alerts.seq, last.seq)))
        .get()?.n ?? 0;
    const batch: AlertBatch = {
      toSeq: last.seq,
      totalCount: total,
      latestAlertId: last.id,
      latestTitle: last.title,
      latestStatus: last.status,
      lastSeenAt: last.receivedAt,
    };
    // The playbook is chosen from the incident's first alert and pinned into the start input;
    // a running workflow ignores these args, so later alerts never change its playbook.
    const first = db
      .select({ labels: alerts.labels })
      .from(alerts)
      .where(eq(alerts.incidentId, incidentId))
      .orderBy(alerts.seq)
      .limit(1)
      .get();
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
      ...(inc.mode === 'drill' ? drillStartExtras(db, incidentId) : {}),
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
    } catch (err) {
      // The run already ended (closed while these alerts were in flight): nothing to tell it.
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      throw err;
    }
  }
}
