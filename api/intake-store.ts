/**
 * The durable half of alert intake: in one SQLite transaction, route each alert to the open
 * incident for its key (or open a new one) and store it in the outbox. When this returns, the
 * alerts survive a crash, so the caller may answer 202. The transaction takes the write lock up
 * front (`immediate`), so lookup-then-insert is atomic and concurrent deliveries of one alert
 * converge on one incident; the unique index on open incident keys backs that up.
 */
import { and, desc, eq, gte, max, ne, sql } from 'drizzle-orm';
import crypto from 'node:crypto';
import type { Db } from '../db/client';
import { alerts, incidents, timeline } from '../db/schema';
import type { Alert } from '../domain/alert';
import type { IncidentMode } from '../domain/incident';
import { incidentWorkflowId } from '../temporal/client';
import { defaultKey, type Route } from './routing';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface StoredAlert {
  /** null when a resolve/acknowledge found no open incident: nothing was stored. */
  alertId: string | null;
  incidentId: string | null;
  deduplicated: boolean;
}

export const incidentKey = defaultKey;

/** `inc-<10 hex of the key's hash>-<n>`: stable for a key, new after each close. */
export function incidentIdFor(key: string, seq: number): string {
  return `inc-${crypto.createHash('sha256').update(key).digest('hex').slice(0, 10)}-${seq}`;
}

export function newAlertId(): string {
  return `alt_${crypto.randomBytes(12).toString('base64url')}`;
}

/** One alert: kept for callers that route by key alone. */
export function storeAlert(
  db: Db,
  alert: Alert,
  opts: { receivedAt: string; mode?: IncidentMode; key?: string },
): StoredAlert {
  const route: Route = {
    key: opts.key ?? defaultKey(alert),
    grouped: false,
    windowMs: undefined,
    playbookId: undefined,
    severity: alert.severity,
    mode: opts.mode ?? 'live',
    onResolved: 'annotate',
    rule: undefined,
  };
  return storeAlerts(db, [{ alert, route }], opts.receivedAt)[0]!;
}

export function storeAlerts(
  db: Db,
  items: { alert: Alert; route: Route }[],
  receivedAt: string,
): StoredAlert[] {
  return db.transaction((tx) => items.map((i) => storeOne(db, tx, i.alert, i.route, receivedAt)), {
    behavior: 'immediate',
  });
}

export interface IntakeBatch {
  items: { alert: Alert; route: Route }[];
  receivedAt: string;
}

/** Several requests' alerts in ONE transaction (one fsync): the unit of group commit. */
export function storeAlertBatches(db: Db, batches: IntakeBatch[]): StoredAlert[][] {
  return db.transaction(
    (tx) => batches.map((b) => b.items.map((i) => storeOne(db, tx, i.alert, i.route, b.receivedAt))),
    { behavior: 'immediate' },
  );
}

/** The key to use: a grouped alert joins its group's incident still inside the window. */
function resolveKey(tx: Tx, route: Route, receivedAt: string): string {
  if (!route.grouped) return route.key;
  if (route.windowMs === undefined) return route.key;
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

function note(tx: Tx, incidentId: string, alertId: string, kind: string, message: string, at: string) {
  tx.insert(timeline)
    .values({
      incidentId,
      at,
      kind,
      actor: 'intake',
      message,
      data: { alertId },
      eventKey: `${incidentId}:${kind}:${alertId}`,
    })
    .onConflictDoNothing()
    .run();
}

/**
 * The statements every alert runs, prepared once per connection: building and preparing them per
 * alert was most of intake's CPU time (bench/RESULTS.md). They run inside the caller's
 * transaction, since better-sqlite3 transactions belong to the connection.
 */
function prepareHotPath(db: Db) {
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

const hotPaths = new WeakMap<Db, ReturnType<typeof prepareHotPath>>();

function hotPath(db: Db): ReturnType<typeof prepareHotPath> {
  let h = hotPaths.get(db);
  if (!h) hotPaths.set(db, (h = prepareHotPath(db)));
  return h;
}

function storeOne(db: Db, tx: Tx, alert: Alert, route: Route, receivedAt: string): StoredAlert {
  const q = hotPath(db);
  const key = resolveKey(tx, route, receivedAt);
  const alertId = newAlertId();
  const open = q.openIncident.get({ key });
  const attachOnly = alert.status === 'resolved' || alert.acknowledgement === true;
  if (!open && attachOnly) return { alertId: null, incidentId: null, deduplicated: false };
  let incidentId: string;
  let status: 'open' | 'resolved' = 'open';
  let resolvedAt: string | null | undefined;
  if (open) {
    incidentId = open.id;
    status = open.status === 'resolved' ? 'resolved' : 'open';
  } else {
    const last = tx
      .select({ seq: max(incidents.seq) })
      .from(incidents)
      .where(eq(incidents.key, key))
      .get();
    const seq = (last?.seq ?? 0) + 1;
    incidentId = incidentIdFor(key, seq);
    tx.insert(incidents)
      .values({
        id: incidentId,
        key,
        seq,
        groupKey: route.grouped ? route.key : null,
        workflowId: incidentWorkflowId(incidentId),
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
  }
  if (open && alert.status === 'resolved') {
    if (route.onResolved === 'resolve' && status === 'open') {
      status = 'resolved';
      resolvedAt = receivedAt;
      note(
        tx,
        incidentId,
        alertId,
        'incident.resolved',
        `Resolved by source ${alert.source}: ${alert.title}`,
        receivedAt,
      );
    } else {
      note(
        tx,
        incidentId,
        alertId,
        'alert.resolved',
        `Source ${alert.source} reports resolved: ${alert.title}`,
        receivedAt,
      );
    }
  } else if (open && alert.acknowledgement) {
    note(tx, incidentId, alertId, 'alert.acknowledged', `Source ${alert.source}: ${alert.title}`, receivedAt);
  } else if (open && status === 'resolved') {
    status = 'open';
    resolvedAt = null;
    note(tx, incidentId, alertId, 'incident.reopened', `Firing again: ${alert.title}`, receivedAt);
  }
  q.insertAlert.run({
    id: alertId,
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
    receivedAt,
  });
  const alertCount = (open?.alertCount ?? 0) + 1;
  q.countAlert.run({ alertCount, alertId, at: receivedAt, status, incidentId });
  if (resolvedAt !== undefined) {
    tx.update(incidents).set({ resolvedAt }).where(eq(incidents.id, incidentId)).run();
  }
  return { alertId, incidentId, deduplicated: open !== undefined };
}
