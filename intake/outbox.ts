/**
 * The intake outbox dispatcher: delivers stored alerts to their incident workflows. It drains
 * undispatched rows in seq order, one signal per incident per batch (signal-with-start until the
 * workflow is known to run), so a storm of thousands of alerts costs a handful of history events.
 * It runs after every intake (kick) and on start, which is what makes a crash between the 202 and
 * the dispatch lose nothing. Delivery is at-least-once; the workflow drops batches it has already
 * counted (AlertBatch.toSeq).
 */
import type { Logger } from 'pino';
import {
  alertCountUpTo,
  dispatchPending,
  firstAlertLabels,
  incidentToDispatch,
  intakeNotes,
  undispatchedCount,
  type DispatchPass,
  type IncidentRow,
  type PendingAlert,
} from '../db/alerts';
import { dialectOf, type Db } from '../db/client';
import type { AlertBatch, ContainmentConfirmation, IncidentStart, PinnedPlaybook } from '../domain/incident';
import { loadPlaybookDir } from '../playbooks/loader';
import { selectPlaybook, TRIAGE_PLAYBOOK_ID } from '../playbooks/select';
import { launchIncidentWorkflow, signalIncidentAlerts, type TemporalHandle } from '../temporal/client';
import { REVIEW_KINDS } from './source-scope';

export interface OutboxOptions {
  db: Db;
  temporal: TemporalHandle;
  log: Logger;
  /**
   * What a drill incident's start adds (scripted outcomes, speed): drills/store.ts's
   * drillStartOptions. Injected because drills/ sits above intake/ (it opens drills through it).
   */
  drillStartOptions: (db: Db, incidentId: string) => Promise<Partial<IncidentStart>>;
  /**
   * Pinned into every incident: the decision public key its workflow verifies decisions with, and
   * the roles (config `decision_roles`) that may abort, resolve and complete tasks, and the
   * policy of a stand-alone release (config `release`).
   */
  decisionStart: Required<Pick<IncidentStart, 'decisionKey' | 'deciderRoles'>> &
    Pick<IncidentStart, 'release'>;
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
  /**
   * A pass at least this often even without a kick, so rows another API process claimed and
   * left behind when it died are taken over. Default: every second on PostgreSQL (several API
   * processes), never on SQLite (one API process, which drains its own rows on start).
   */
  pollMs?: number;
}

/** How many incidents are dispatched concurrently in one pass. */
const DISPATCH_LANES = 8;

/** How many running incidents the outbox remembers; forgetting one costs one signal-with-start. */
const KNOWN_STARTED_MAX = 10_000;

/** The batch signal for an incident's pending rows (in seq order); `total` counts all its alerts. */
function batchOf(list: PendingAlert[], total: number): AlertBatch {
  const last = list[list.length - 1]!;
  return {
    toSeq: last.seq,
    totalCount: total,
    latestAlertId: last.id,
    latestTitle: last.title,
    latestStatus: last.status,
    lastSeenAt: last.receivedAt,
  };
}

/**
 * Who asked for the incident (two-person rule): the person who declared it in Slack (the `slack`
 * source, whose alerts only the Slack receiver writes), else the alert source itself.
 */
function requesterOf(inc: IncidentRow, labels: Record<string, string>): string {
  return inc.source === 'slack' && labels.declared_by ? labels.declared_by : `source:${inc.source}`;
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
  private poller: NodeJS.Timeout | undefined;

  private readonly batchSize: number;

  constructor(private readonly opts: OutboxOptions) {
    this.batchSize = opts.batchSize ?? 5000;
    const pollMs = opts.pollMs ?? (dialectOf(opts.db) === 'postgres' ? 1000 : undefined);
    if (pollMs !== undefined) {
      this.poller = setInterval(() => this.kick(), pollMs);
      this.poller.unref();
    }
  }

  private playbooks(): PinnedPlaybook[] {
    this.opts.playbooks ??= loadPlaybookDir();
    return this.opts.playbooks;
  }

  /**
   * A playbook by id, pinned exactly as an incident opening now would pin it (same set, same
   * hash): what a responder attaches to a running incident (api/, slack/).
   */
  playbook(id: string): PinnedPlaybook | undefined {
    return this.playbooks().find((p) => p.id === id);
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
    if (this.poller) clearInterval(this.poller);
    if (this.timer) clearTimeout(this.timer);
    if (this.deferTimer) clearTimeout(this.deferTimer);
    await this.idle;
  }

  /** Resolves when nothing is left to dispatch (for tests and graceful shutdown). */
  async drained(): Promise<void> {
    for (;;) {
      await this.idle;
      if (!this.running && (await this.pendingCount()) === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  pendingCount(): Promise<number> {
    return undispatchedCount(this.opts.db);
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
    // One transaction (one fsync) marks the whole pass; what was signalled before a failure is
    // marked too. A crash before that re-sends those batches, which the workflow drops.
    const pass = await dispatchPending(this.opts.db, this.batchSize, (rows) => this.deliver(rows));
    if (pass.failure) throw pass.failure.err;
    return pass.done.length;
  }

  /** Signals the incidents of these rows; says which rows it delivered. */
  private async deliver(rows: PendingAlert[]): Promise<DispatchPass> {
    const byIncident = new Map<string, PendingAlert[]>();
    for (const r of rows) {
      const list = byIncident.get(r.incidentId) ?? [];
      list.push(r);
      byIncident.set(r.incidentId, list);
    }
    const entries = this.dueNow(byIncident);
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
    return failure ? { done, failure } : { done };
  }

  /**
   * The incidents to signal in this pass. One signalled within the interval waits, and a timer
   * brings the pass that sends its batch.
   */
  private dueNow(byIncident: Map<string, PendingAlert[]>): [string, PendingAlert[]][] {
    const interval = this.opts.incidentIntervalMs ?? 500;
    const now = Date.now();
    let wakeAt = Infinity;
    const due: [string, PendingAlert[]][] = [];
    for (const [incidentId, list] of byIncident) {
      const last = this.lastSent.get(incidentId);
      if (last !== undefined && now - last < interval) wakeAt = Math.min(wakeAt, last + interval);
      else due.push([incidentId, list]);
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
    return due;
  }

  /** Delivers one incident's pending alerts as one batch. */
  private async dispatch(incidentId: string, list: PendingAlert[]): Promise<void> {
    const { db, temporal } = this.opts;
    const inc = await incidentToDispatch(db, incidentId);
    if (!inc || inc.status === 'closed') {
      this.started.delete(incidentId);
      return; // counted in the DB; a closed workflow takes no signals
    }
    const batch = batchOf(list, await alertCountUpTo(db, incidentId, list[list.length - 1]!.seq));
    if (this.started.has(incidentId)) {
      if (await signalIncidentAlerts(temporal, incidentId, batch)) return;
      // It ended meanwhile: the launch below finds it already ended and drops the batch.
      this.started.delete(incidentId);
    }
    const outcome = await launchIncidentWorkflow(temporal, await this.startOf(inc), batch);
    if (outcome === 'started') {
      this.started.add(incidentId);
      if (this.started.size > KNOWN_STARTED_MAX) this.started.delete(this.started.values().next().value!);
    }
  }

  /**
   * The workflow's start input. The playbook is chosen from the incident's first alert and pinned
   * into it; a running workflow ignores these args, so later alerts never change its playbook.
   */
  private async startOf(inc: IncidentRow): Promise<IncidentStart> {
    const labels = await firstAlertLabels(this.opts.db, inc.id);
    const playbook = this.playbookFor(inc, labels);
    const confirmation = await this.confirmationFor(inc.id);
    return {
      incidentId: inc.id,
      key: inc.key,
      mode: inc.mode,
      source: inc.source,
      title: inc.title,
      severity: inc.severity,
      agentId: inc.agentId ?? undefined,
      openedAt: inc.openedAt,
      labels,
      requestedBy: requesterOf(inc, labels),
      ...this.opts.decisionStart,
      ...(playbook ? { playbook } : {}),
      ...(confirmation ? { confirmation } : {}),
      ...(inc.mode === 'drill' ? await this.opts.drillStartOptions(this.opts.db, inc.id) : {}),
    };
  }

  /**
   * What intake's review found about the incident's alerts so far (source-scope.ts): any finding
   * makes its containment wait for one of the source's confirm_approvers.
   */
  private async confirmationFor(incidentId: string): Promise<ContainmentConfirmation | undefined> {
    const notes = await intakeNotes(this.opts.db, incidentId, Object.keys(REVIEW_KINDS));
    if (notes.length === 0) return undefined;
    const approvers = notes[0]!.data?.['approvers'] as ContainmentConfirmation['approvers'];
    return {
      reasons: [...new Set(notes.map((n) => REVIEW_KINDS[n.kind]!))],
      message: notes.map((n) => n.message).join('; '),
      approvers,
    };
  }

  /**
   * A playbook named on the incident (an intake routing rule, a drill) wins over matching; an
   * incident nothing matches runs the triage playbook, which asks responders which one applies.
   */
  private playbookFor(inc: IncidentRow, labels: Record<string, string>): PinnedPlaybook | undefined {
    const named = inc.playbookId ? this.playbooks().find((p) => p.id === inc.playbookId) : undefined;
    if (inc.playbookId && !named) {
      this.opts.log.warn(
        { incidentId: inc.id, playbookId: inc.playbookId },
        'unknown playbook; matching instead',
      );
    }
    return (
      named ??
      selectPlaybook(this.playbooks(), {
        severity: inc.severity,
        source: inc.source,
        title: inc.title,
        labels,
      }) ??
      this.playbooks().find((p) => p.id === TRIAGE_PLAYBOOK_ID)
    );
  }
}
