/**
 * Alerts, intake and the outbox in the database. Intake's write is one SQLite transaction that
 * routes each alert to the open incident for its key (or opens a new one) and stores it in the
 * outbox; when `storeAlertBatches` resolves, the alerts survive a crash (synchronous=FULL), so
 * the caller may answer 202. The transaction takes the write lock up front (`immediate`), so
 * lookup-then-insert is atomic and concurrent deliveries of one alert converge on one incident;
 * the unique index on open incident keys backs that up. The outbox reads undispatched rows in seq
 * order and marks what it delivered. The hot statements are prepared once per connection:
 * building them per alert was most of intake's CPU time (bench/RESULTS.md).
 */
import crypto from 'node:crypto';
import { and, count, desc, eq, gte, inArray, isNull, lte, max, ne, sql } from 'drizzle-orm';
import type { Alert, Severity } from '../domain/alert';
import type { IncidentMode } from '../domain/incident';
import type { Db } from './client';
import { alerts, incidents, timeline } from './schema';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type IncidentRow = typeof incidents.$inferSelect;

/** Where routing sent an alert (intake/routing.ts decides it; this is what storing needs). */
export interface AlertPlacement {
  /** The incident key, or for grouped alerts the group's base key (see windowMs). */
  key: string;
  /** Grouped: join an open incident of this group whose last alert is younger than windowMs. */
  grouped: boolean;
  windowMs: number | undefined;
  playbookId: string | undefined;
  severity: Severity;
  mode: IncidentMode;
  onResolved: 'resolve' | 'annotate';
  /** What intake's review of the source found (intake/source-scope.ts): timeline notes stored with the alert. */
  notes?: IntakeNote[];
}

/** A finding about one alert, written to its incident's timeline in the transaction that stores it. */
export interface IntakeNote {
  kind: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface PlacedAlert {
  alert: Alert;
  route: AlertPlacement;
}

/** One request's alerts, received together. */
export interface IntakeBatch {
  items: PlacedAlert[];
  receivedAt: string;
}

export interface StoredAlert {
  /** null when a resolve/acknowledge found no open incident: nothing was stored. */
  alertId: string | null;
  incidentId: string | null;
  deduplicated: boolean;
}

/** How a new incident's row names its workflow (temporal/client.ts owns the scheme). */
export type WorkflowIdFor = (incidentId: string) => string;

/** `inc-<10 hex of the key's hash>-<n>`: stable for a key, new after each close. */
export function incidentIdFor(key: string, seq: number): string {
  return `inc-${crypto.createHash('sha256').update(key).digest('hex').slice(0, 10)}-${seq}`;
}

export function newAlertId(): string {
  return `alt_${crypto.randomBytes(12).toString('base64url')}`;
}

function prepareIntake(db: Db) {
  const p = sql.placeholder;
  return {
    openIncident: db
      .select({ id: incidents.id, status: incidents.status, alertCount: incidents.alertCount })
      .from(incidents)
      .where(and(eq(incidents.key, p('key')), ne(incidents.status, 'closed')))
      .prepare(),
    insertAlert: db
      .insert(alerts)
      .values({
        id: p('id'),
        incidentId: p('incidentId'),
        source: p('source'),
        format: p('format'),
        dedupKey: p('dedupKey'),
        title: p('title'),
        severity: p('severity'),
        status: p('status'),
        agentId: p('agentId'),
        labels: p('labels'),
        details: p('details'),
        occurredAt: p('occurredAt'),
        receivedAt: p('receivedAt'),
      })
      .prepare(),
    countAlert: db
      .update(incidents)
      // (update values take SQL, not bare placeholders; all of these are plain text/integers)
      .set({
        alertCount: sql`${p('alertCount')}`,
        latestAlertId: sql`${p('alertId')}`,
        lastAlertAt: sql`${p('at')}`,
        updatedAt: sql`${p('at')}`,
        status: sql`${p('status')}`,
      })
      .where(eq(incidents.id, p('incidentId')))
      .prepare(),
  };
}

type IntakeStatements = ReturnType<typeof prepareIntake>;
type OpenIncident = NonNullable<ReturnType<IntakeStatements['openIncident']['get']>>;

const intakeStatements = new WeakMap<Db, IntakeStatements>();

function intakeQueries(db: Db): IntakeStatements {
  let q = intakeStatements.get(db);
  if (!q) intakeStatements.set(db, (q = prepareIntake(db)));
  return q;
}

/** The key to use: a grouped alert joins its group's incident still inside the window. */
function resolveKey(tx: Tx, route: AlertPlacement, receivedAt: string): string {
  if (!route.grouped || route.windowMs === undefined) return route.key;
  const cutoff = new Date(Date.parse(receivedAt) - route.windowMs).toISOString();
  const open = tx
    .select({ key: incidents.key })
    .from(incidents)
    .where(
      and(
        eq(incidents.groupKey, route.key),
        ne(incidents.status, 'closed'),
        gte(incidents.lastAlertAt, cutoff),
      ),
    )
    .orderBy(desc(incidents.lastAlertAt))
    .get();
  return open?.key ?? `${route.key}@${receivedAt}`;
}

/** Opens the next incident for a key (seq counts the key's incidents); returns its id. */
function openIncident(
  tx: Tx,
  key: string,
  item: PlacedAlert,
  receivedAt: string,
  workflowIdFor: WorkflowIdFor,
): string {
  const { alert, route } = item;
  const last = tx
    .select({ seq: max(incidents.seq) })
    .from(incidents)
    .where(eq(incidents.key, key))
    .get();
  const seq = (last?.seq ?? 0) + 1;
  const id = incidentIdFor(key, seq);
  tx.insert(incidents)
    .values({
      id,
      key,
      seq,
      groupKey: route.grouped ? route.key : null,
      workflowId: workflowIdFor(id),
      source: alert.source,
      title: alert.title,
      severity: route.severity,
      status: 'open',
      mode: route.mode,
      phase: 'new',
      agentId: alert.agentId ?? null,
      playbookId: route.playbookId ?? null,
      alertCount: 0,
      firstAlertAt: receivedAt,
      lastAlertAt: receivedAt,
      openedAt: receivedAt,
      updatedAt: receivedAt,
    })
    .run();
  return id;
}

/** What a further alert does to an open incident: its status, and the timeline note it leaves. */
interface IncidentChange {
  status: 'open' | 'resolved';
  /** undefined: unchanged; null: cleared (reopened). */
  resolvedAt: string | null | undefined;
  note?: { kind: string; message: string };
}

function changeOf(open: OpenIncident, item: PlacedAlert, receivedAt: string): IncidentChange {
  const { alert, route } = item;
  const status = open.status === 'resolved' ? 'resolved' : 'open';
  if (alert.status === 'resolved') {
    if (route.onResolved === 'resolve' && status === 'open') {
      const message = `Resolved by source ${alert.source}: ${alert.title}`;
      return { status: 'resolved', resolvedAt: receivedAt, note: { kind: 'incident.resolved', message } };
    }
    const message = `Source ${alert.source} reports resolved: ${alert.title}`;
    return { status, resolvedAt: undefined, note: { kind: 'alert.resolved', message } };
  }
  if (alert.acknowledgement) {
    const message = `Source ${alert.source}: ${alert.title}`;
    return { status, resolvedAt: undefined, note: { kind: 'alert.acknowledged', message } };
  }
  if (status === 'resolved') {
    const message = `Firing again: ${alert.title}`;
    return { status: 'open', resolvedAt: null, note: { kind: 'incident.reopened', message } };
  }
  return { status, resolvedAt: undefined };
}

function noteOn(tx: Tx, incidentId: string, alertId: string, note: IntakeNote | undefined, at: string) {
  if (!note) return;
  tx.insert(timeline)
    .values({
      incidentId,
      at,
      kind: note.kind,
      actor: 'intake',
      message: note.message,
      data: { alertId, ...note.data },
      eventKey: `${incidentId}:${note.kind}:${alertId}`,
    })
    .onConflictDoNothing()
    .run();
}

function insertAlertRow(q: IntakeStatements, id: string, incidentId: string, item: PlacedAlert, at: string) {
  const { alert, route } = item;
  q.insertAlert.run({
    id,
    incidentId,
    source: alert.source,
    format: alert.format,
    dedupKey: alert.dedupKey,
    title: alert.title,
    severity: route.severity,
    status: alert.status,
    agentId: alert.agentId ?? null,
    labels: alert.labels,
    details: alert.details,
    occurredAt: alert.occurredAt,
    receivedAt: at,
  });
}

function storeOne(
  q: IntakeStatements,
  tx: Tx,
  item: PlacedAlert,
  receivedAt: string,
  workflowIdFor: WorkflowIdFor,
): StoredAlert {
  const key = resolveKey(tx, item.route, receivedAt);
  const open = q.openIncident.get({ key });
  const attachOnly = item.alert.status === 'resolved' || item.alert.acknowledgement === true;
  if (!open && attachOnly) return { alertId: null, incidentId: null, deduplicated: false };
  const alertId = newAlertId();
  const incidentId = open ? open.id : openIncident(tx, key, item, receivedAt, workflowIdFor);
  const change: IncidentChange = open
    ? changeOf(open, item, receivedAt)
    : { status: 'open', resolvedAt: undefined };
  noteOn(tx, incidentId, alertId, change.note, receivedAt);
  for (const note of item.route.notes ?? []) noteOn(tx, incidentId, alertId, note, receivedAt);
  insertAlertRow(q, alertId, incidentId, item, receivedAt);
  const alertCount = (open?.alertCount ?? 0) + 1;
  q.countAlert.run({ alertCount, alertId, at: receivedAt, status: change.status, incidentId });
  if (change.resolvedAt !== undefined) {
    tx.update(incidents).set({ resolvedAt: change.resolvedAt }).where(eq(incidents.id, incidentId)).run();
  }
  return { alertId, incidentId, deduplicated: open !== undefined };
}

/**
 * Several requests' alerts in ONE transaction (one fsync): the unit of group commit. Resolves
 * once the transaction has committed; rejects, storing nothing, if any alert fails.
 */
export async function storeAlertBatches(
  db: Db,
  batches: IntakeBatch[],
  workflowIdFor: WorkflowIdFor,
): Promise<StoredAlert[][]> {
  const q = intakeQueries(db);
  return db.transaction(
    (tx) => batches.map((b) => b.items.map((item) => storeOne(q, tx, item, b.receivedAt, workflowIdFor))),
    { behavior: 'immediate' },
  );
}

/** An undispatched outbox row: what the incident workflow is told about its latest alert. */
export interface PendingAlert {
  seq: number;
  id: string;
  incidentId: string;
  title: string;
  status: 'firing' | 'resolved';
  receivedAt: string;
}

function prepareOutbox(db: Db) {
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
      .limit(p('limit'))
      .prepare(),
    pendingCount: db.select({ n: count() }).from(alerts).where(isNull(alerts.dispatchedAt)).prepare(),
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

type OutboxStatements = ReturnType<typeof prepareOutbox>;
const outboxStatements = new WeakMap<Db, OutboxStatements>();

function outboxQueries(db: Db): OutboxStatements {
  let q = outboxStatements.get(db);
  if (!q) outboxStatements.set(db, (q = prepareOutbox(db)));
  return q;
}

/** The oldest undispatched alerts, in seq order. */
export async function undispatchedAlerts(db: Db, limit: number): Promise<PendingAlert[]> {
  return outboxQueries(db).undispatched.all({ limit });
}

export async function undispatchedCount(db: Db): Promise<number> {
  return outboxQueries(db).pendingCount.get()?.n ?? 0;
}

/** The incident row the outbox builds a workflow start from. */
export async function incidentToDispatch(db: Db, incidentId: string): Promise<IncidentRow | undefined> {
  return outboxQueries(db).incident.get({ id: incidentId });
}

/** How many alerts an incident has up to and including `seq` (the batch's total). */
export async function alertCountUpTo(db: Db, incidentId: string, seq: number): Promise<number> {
  return outboxQueries(db).countUpTo.get({ id: incidentId, seq })?.n ?? 0;
}

/** The labels of an incident's first alert, which choose its playbook. */
export async function firstAlertLabels(db: Db, incidentId: string): Promise<Record<string, string>> {
  return outboxQueries(db).firstLabels.get({ id: incidentId })?.labels ?? {};
}

/** An incident's intake notes of these kinds (see IntakeNote), oldest first. */
export async function intakeNotes(db: Db, incidentId: string, kinds: string[]): Promise<IntakeNote[]> {
  if (kinds.length === 0) return [];
  const rows = db
    .select({ kind: timeline.kind, message: timeline.message, data: timeline.data })
    .from(timeline)
    .where(
      and(eq(timeline.incidentId, incidentId), eq(timeline.actor, 'intake'), inArray(timeline.kind, kinds)),
    )
    .orderBy(timeline.id)
    .all();
  return rows.map((r) => ({
    kind: r.kind,
    message: r.message,
    data: (r.data ?? {}) as Record<string, unknown>,
  }));
}

/** Marks delivered rows in one transaction (one fsync for the whole pass). */
export async function markDispatched(db: Db, done: { seq: number; at: string }[]): Promise<void> {
  if (done.length === 0) return;
  const q = outboxQueries(db);
  db.transaction(() => {
    for (const d of done) q.markDispatched.run(d);
  });
}
