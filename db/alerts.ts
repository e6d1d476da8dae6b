/**
 * Alerts, intake and the outbox in the database. Intake's write is one transaction that
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
import { dialectOf, inTransaction, lockKeys, rawRows, type Db } from './client';
import { alerts, incidents, timeline } from './schema';

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

/** The hot statements of intake, SQLite's prepared once per connection. */
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

interface OpenIncident {
  id: string;
  status: IncidentRow['status'];
  alertCount: number;
}

type AlertValues = Omit<typeof alerts.$inferInsert, 'seq' | 'dispatchedAt'>;
interface CountValues {
  alertCount: number;
  alertId: string;
  at: string;
  status: 'open' | 'resolved';
  incidentId: string;
}

/**
 * Intake's hot statements inside one transaction `tx`. `flush` writes what they buffered; it runs
 * before the commit and before any read that must see those writes.
 */
interface IntakeStatements {
  /** The open incidents of these keys, at once (PostgreSQL: one round trip; SQLite: none needed). */
  openIncidents(keys: string[]): Promise<Map<string, OpenIncident>>;
  openIncident(key: string): Promise<OpenIncident | undefined>;
  insertAlert(v: AlertValues): Promise<void>;
  countAlert(v: CountValues): Promise<void>;
  flush(): Promise<void>;
}

const sqliteIntake = new WeakMap<object, ReturnType<typeof prepareIntake>>();

/** Rows per multi-row INSERT (well under PostgreSQL's 65,535 bind parameters). */
const INSERT_CHUNK = 1000;

/**
 * SQLite: statements prepared once on the connection (a transaction runs on it too), each run at
 * once; a statement costs microseconds there. PostgreSQL: every statement is a round trip, so the
 * alerts of a group go in multi-row INSERTs and the counters of all its incidents in one UPDATE
 * with their final values (countAlerts), at flush; built on the transaction's client (a statement prepared on the pool
 * would run outside the transaction).
 */
function intakeStatements(db: Db, tx: Db): IntakeStatements {
  if (dialectOf(db) === 'sqlite') {
    let p = sqliteIntake.get(db.$client);
    if (!p) sqliteIntake.set(db.$client, (p = prepareIntake(db)));
    const prepared = p;
    return {
      openIncidents: async () => new Map(),
      openIncident: async (key) => prepared.openIncident.get({ key }),
      insertAlert: async (v) => {
        prepared.insertAlert.run(v);
      },
      countAlert: async (v) => {
        prepared.countAlert.run({ ...v });
      },
      flush: async () => undefined,
    };
  }
  const rows: AlertValues[] = [];
  const counts = new Map<string, CountValues>();
  return {
    openIncidents: async (keys) => {
      if (keys.length === 0) return new Map();
      const query = tx
        .select({
          key: incidents.key,
          id: incidents.id,
          status: incidents.status,
          alertCount: incidents.alertCount,
        })
        .from(incidents)
        .where(and(inArray(incidents.key, keys), ne(incidents.status, 'closed')));
      const rows = await (query as unknown as { for(s: 'update'): typeof query }).for('update');
      return new Map(rows.map(({ key, ...open }) => [key, open]));
    },
    openIncident: async (key) => {
      const query = tx
        .select({ id: incidents.id, status: incidents.status, alertCount: incidents.alertCount })
        .from(incidents)
        .where(and(eq(incidents.key, key), ne(incidents.status, 'closed')));
      // Locked until commit: a close written meanwhile (the workflow's) waits, and one committed
      // before is seen, so an alert never lands on, nor reopens, a closed incident.
      const [row] = await (query as unknown as { for(s: 'update'): typeof query }).for('update');
      return row;
    },
    insertAlert: async (v) => {
      rows.push(v);
    },
    countAlert: async (v) => {
      counts.set(v.incidentId, v);
    },
    flush: async () => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK)
        await tx.insert(alerts).values(rows.slice(i, i + INSERT_CHUNK));
      rows.length = 0;
      const all = [...counts.values()];
      for (let i = 0; i < all.length; i += INSERT_CHUNK)
        await countAlerts(tx, all.slice(i, i + INSERT_CHUNK));
      counts.clear();
    },
  };
}

/**
 * PostgreSQL: the counters of many incidents in ONE statement (an UPDATE joined to a VALUES list
 * of each incident's final values), so a group commit costs one round trip for them, not one per
 * incident.
 */
async function countAlerts(tx: Db, values: CountValues[]): Promise<void> {
  const rows = sql.join(
    values.map((v) => sql`(${v.incidentId}, ${v.alertCount}::integer, ${v.alertId}, ${v.at}, ${v.status})`),
    sql`, `,
  );
  await rawRows(
    tx,
    sql`update incidents as i
      set alert_count = v.alert_count, latest_alert_id = v.alert_id, last_alert_at = v.at,
          updated_at = v.at, status = v.status
      from (values ${rows}) as v(id, alert_count, alert_id, at, status)
      where i.id = v.id`,
  );
}

/** The key to use: a grouped alert joins its group's incident still inside the window. */
async function resolveKey(
  q: IntakeStatements,
  tx: Db,
  route: AlertPlacement,
  receivedAt: string,
): Promise<string> {
  if (!route.grouped || route.windowMs === undefined) return route.key;
  await q.flush(); // the group's incidents as this transaction left them
  const cutoff = new Date(Date.parse(receivedAt) - route.windowMs).toISOString();
  const [open] = await tx
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
    .limit(1);
  return open?.key ?? `${route.key}@${receivedAt}`;
}

/** Opens the next incident for a key (seq counts the key's incidents); returns its id. */
async function openIncident(
  tx: Db,
  key: string,
  item: PlacedAlert,
  receivedAt: string,
  workflowIdFor: WorkflowIdFor,
): Promise<string> {
  const { alert, route } = item;
  const [last] = await tx
    .select({ seq: max(incidents.seq) })
    .from(incidents)
    .where(eq(incidents.key, key));
  const seq = (last?.seq ?? 0) + 1;
  const id = incidentIdFor(key, seq);
  await tx.insert(incidents).values({
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
  });
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

async function noteOn(tx: Db, incidentId: string, alertId: string, note: IntakeNote | undefined, at: string) {
  if (!note) return;
  await tx
    .insert(timeline)
    .values({
      incidentId,
      at,
      kind: note.kind,
      actor: 'intake',
      message: note.message,
      data: { alertId, ...note.data },
      eventKey: `${incidentId}:${note.kind}:${alertId}`,
    })
    .onConflictDoNothing();
}

async function insertAlertRow(
  q: IntakeStatements,
  tx: Db,
  id: string,
  incidentId: string,
  item: PlacedAlert,
  at: string,
) {
  const { alert, route } = item;
  await q.insertAlert({
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

/** Within one intake transaction: each key's open incident as the alerts stored so far left it. */
type OpenByKey = Map<string, OpenIncident>;

async function storeOne(
  q: IntakeStatements,
  seen: OpenByKey,
  tx: Db,
  item: PlacedAlert,
  receivedAt: string,
  workflowIdFor: WorkflowIdFor,
): Promise<StoredAlert> {
  const key = await resolveKey(q, tx, item.route, receivedAt);
  const open = seen.get(key) ?? (await q.openIncident(key));
  const attachOnly = item.alert.status === 'resolved' || item.alert.acknowledgement === true;
  if (!open && attachOnly) return { alertId: null, incidentId: null, deduplicated: false };
  const alertId = newAlertId();
  const incidentId = open ? open.id : await openIncident(tx, key, item, receivedAt, workflowIdFor);
  const change: IncidentChange = open
    ? changeOf(open, item, receivedAt)
    : { status: 'open', resolvedAt: undefined };
  await noteOn(tx, incidentId, alertId, change.note, receivedAt);
  for (const note of item.route.notes ?? []) await noteOn(tx, incidentId, alertId, note, receivedAt);
  await insertAlertRow(q, tx, alertId, incidentId, item, receivedAt);
  const alertCount = (open?.alertCount ?? 0) + 1;
  await q.countAlert({ alertCount, alertId, at: receivedAt, status: change.status, incidentId });
  seen.set(key, { id: incidentId, status: change.status, alertCount });
  if (change.resolvedAt !== undefined) {
    await tx.update(incidents).set({ resolvedAt: change.resolvedAt }).where(eq(incidents.id, incidentId));
  }
  return { alertId, incidentId, deduplicated: open !== undefined };
}

/**
 * Several requests' alerts in ONE transaction (one fsync): the unit of group commit. Resolves
 * once the transaction has committed; rejects, storing nothing, if any alert fails. Other API
 * processes (PostgreSQL) storing alerts for the same keys wait for the key locks taken first, so
 * the lookup-then-open of an incident is atomic across processes as well.
 */
export async function storeAlertBatches(
  db: Db,
  batches: IntakeBatch[],
  workflowIdFor: WorkflowIdFor,
): Promise<StoredAlert[][]> {
  const keys = batches.flatMap((b) => b.items.map((i) => `incident-key:${i.route.key}`));
  return inTransaction(
    db,
    async (tx) => {
      await lockKeys(tx, keys);
      const q = intakeStatements(db, tx);
      // Keys of ungrouped alerts are known up front: their open incidents in one read. A key
      // with none is looked up again when its first alert is stored (it may open one first).
      const direct = batches.flatMap((b) => b.items.filter((i) => !i.route.grouped).map((i) => i.route.key));
      const seen: OpenByKey = await q.openIncidents([...new Set(direct)]);
      const stored: StoredAlert[][] = [];
      for (const b of batches) {
        const list: StoredAlert[] = [];
        for (const item of b.items) list.push(await storeOne(q, seen, tx, item, b.receivedAt, workflowIdFor));
        stored.push(list);
      }
      await q.flush();
      return stored;
    },
    'immediate',
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

const pendingFields = {
  seq: alerts.seq,
  id: alerts.id,
  incidentId: alerts.incidentId,
  title: alerts.title,
  status: alerts.status,
  receivedAt: alerts.receivedAt,
};

function prepareOutbox(db: Db) {
  const p = sql.placeholder;
  return {
    undispatched: db
      .select(pendingFields)
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

/** The outbox's statements: SQLite's prepared once per connection, PostgreSQL's built per call. */
interface OutboxStatements {
  undispatched(limit: number): Promise<PendingAlert[]>;
  pendingCount(): Promise<number>;
  incident(id: string): Promise<IncidentRow | undefined>;
  countUpTo(id: string, seq: number): Promise<number>;
  firstLabels(id: string): Promise<Record<string, string> | undefined>;
}

const outboxStatements = new WeakMap<object, OutboxStatements>();

function outboxQueries(db: Db): OutboxStatements {
  let q = outboxStatements.get(db.$client);
  if (q) return q;
  if (dialectOf(db) === 'postgres') {
    q = {
      undispatched: (limit) =>
        db
          .select(pendingFields)
          .from(alerts)
          .where(isNull(alerts.dispatchedAt))
          .orderBy(alerts.seq)
          .limit(limit),
      pendingCount: async () =>
        (await db.select({ n: count() }).from(alerts).where(isNull(alerts.dispatchedAt)))[0]?.n ?? 0,
      incident: async (id) => (await db.select().from(incidents).where(eq(incidents.id, id)))[0],
      countUpTo: async (id, seq) =>
        (
          await db
            .select({ n: count() })
            .from(alerts)
            .where(and(eq(alerts.incidentId, id), lte(alerts.seq, seq)))
        )[0]?.n ?? 0,
      firstLabels: async (id) =>
        (
          await db
            .select({ labels: alerts.labels })
            .from(alerts)
            .where(eq(alerts.incidentId, id))
            .orderBy(alerts.seq)
            .limit(1)
        )[0]?.labels,
    };
  } else {
    const p = prepareOutbox(db);
    q = {
      undispatched: async (limit) => p.undispatched.all({ limit }),
      pendingCount: async () => p.pendingCount.get()?.n ?? 0,
      incident: async (id) => p.incident.get({ id }),
      countUpTo: async (id, seq) => p.countUpTo.get({ id, seq })?.n ?? 0,
      firstLabels: async (id) => p.firstLabels.get({ id })?.labels,
    };
    sqliteMarkers.set(db.$client, p.markDispatched);
  }
  outboxStatements.set(db.$client, q);
  return q;
}

const sqliteMarkers = new WeakMap<object, ReturnType<typeof prepareOutbox>['markDispatched']>();

/** The oldest undispatched alerts, in seq order. */
export async function undispatchedAlerts(db: Db, limit: number): Promise<PendingAlert[]> {
  return outboxQueries(db).undispatched(limit);
}

export async function undispatchedCount(db: Db): Promise<number> {
  return outboxQueries(db).pendingCount();
}

/** The incident row the outbox builds a workflow start from. */
export async function incidentToDispatch(db: Db, incidentId: string): Promise<IncidentRow | undefined> {
  return outboxQueries(db).incident(incidentId);
}

/** How many alerts an incident has up to and including `seq` (the batch's total). */
export async function alertCountUpTo(db: Db, incidentId: string, seq: number): Promise<number> {
  return outboxQueries(db).countUpTo(incidentId, seq);
}

/** The labels of an incident's first alert, which choose its playbook. */
export async function firstAlertLabels(db: Db, incidentId: string): Promise<Record<string, string>> {
  return (await outboxQueries(db).firstLabels(incidentId)) ?? {};
}

/** What one dispatch pass delivered (marked dispatched), and the error that stopped it, if any. */
export interface DispatchPass {
  done: { seq: number; at: string }[];
  failure?: { err: unknown };
}

/**
 * One outbox pass over up to `limit` undispatched rows, in seq order: `deliver` signals them and
 * says which it delivered, and those are marked dispatched in one transaction (one fsync).
 *
 * PostgreSQL, where several API processes run an outbox: the rows are claimed `FOR UPDATE SKIP
 * LOCKED` in a transaction held open while they are delivered, so each stored row is dispatched
 * by one process at a time and the others take the next ones. A process that dies mid-dispatch
 * drops its connection, the server rolls its claim back and the rows are free for the others
 * again (they re-send what it signalled; delivery is at-least-once and the workflow drops a batch
 * it has counted). SQLite has one API process: it reads, delivers and then marks, so intake's
 * writes never wait for Temporal.
 */
export async function dispatchPending(
  db: Db,
  limit: number,
  deliver: (rows: PendingAlert[]) => Promise<DispatchPass>,
): Promise<DispatchPass & { rows: number }> {
  if (dialectOf(db) === 'postgres') {
    return inTransaction(db, async (tx) => {
      const rows = await rawRows<PendingAlert>(
        tx,
        sql`SELECT seq, id, incident_id AS "incidentId", title, status, received_at AS "receivedAt"
          FROM alerts WHERE dispatched_at IS NULL ORDER BY seq LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
      );
      if (rows.length === 0) return { rows: 0, done: [] };
      const pass = await deliver(rows);
      for (const chunk of chunks(pass.done, 1000)) {
        const at = chunk[0]!.at;
        await tx
          .update(alerts)
          .set({ dispatchedAt: at })
          .where(
            inArray(
              alerts.seq,
              chunk.map((d) => d.seq),
            ),
          );
      }
      return { rows: rows.length, ...pass };
    });
  }
  const rows = await undispatchedAlerts(db, limit);
  if (rows.length === 0) return { rows: 0, done: [] };
  const pass = await deliver(rows);
  await markDispatched(db, pass.done);
  return { rows: rows.length, ...pass };
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** An incident's intake notes of these kinds (see IntakeNote), oldest first. */
export async function intakeNotes(db: Db, incidentId: string, kinds: string[]): Promise<IntakeNote[]> {
  if (kinds.length === 0) return [];
  const rows = await db
    .select({ kind: timeline.kind, message: timeline.message, data: timeline.data })
    .from(timeline)
    .where(
      and(eq(timeline.incidentId, incidentId), eq(timeline.actor, 'intake'), inArray(timeline.kind, kinds)),
    )
    .orderBy(timeline.id);
  return rows.map((r) => ({
    kind: r.kind,
    message: r.message,
    data: (r.data ?? {}) as Record<string, unknown>,
  }));
}

/** Marks delivered rows in one transaction (one fsync for the whole pass). */
export async function markDispatched(db: Db, done: { seq: number; at: string }[]): Promise<void> {
  if (done.length === 0) return;
  if (dialectOf(db) === 'postgres') {
    await inTransaction(db, async (tx) => {
      for (const d of done) await tx.update(alerts).set({ dispatchedAt: d.at }).where(eq(alerts.seq, d.seq));
    });
    return;
  }
  outboxQueries(db);
  const mark = sqliteMarkers.get(db.$client)!;
  await inTransaction(db, async () => {
    for (const d of done) mark.run(d);
  });
}
