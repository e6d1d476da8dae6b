/**
 * The queries behind `/metrics`, run at scrape time over the stored incidents, alerts, timeline,
 * action runs and audit log (api/metrics-queries.ts turns the rows into samples). Each row
 * carries the incident's `mode`, so drills stay out of `mode="live"` series.
 */
import { sql } from 'drizzle-orm';
import { jsonField, rawRows, type Db } from './client';

export interface MetricIncidentRow {
  id: string;
  mode: string;
  severity: string;
  status: string;
  phase: string;
  opened_at: string;
  closed_at: string | null;
  /** Set while containment holds and a human must act (see workflows/needs-attention.ts). */
  needs_attention_at: string | null;
}

export interface MetricEventRow {
  incident_id: string;
  at: string;
  kind: string;
  actor: string;
  data: string | null;
}

export interface MetricRows {
  incidents: MetricIncidentRow[];
  /** Per mode and source: alerts received, and how many joined an incident opened before. */
  alerts: { mode: string; source: string; received: number; deduplicated: number }[];
  /** Audit entries whose outcome is a failure, counted per mode, action and outcome. */
  failures: { mode: string; action: string; outcome: string; n: number }[];
  /** Finished action runs. */
  runs: { mode: string; action: string; status: string; started_at: string; finished_at: string }[];
  /** The timeline events durations are computed from, in order. */
  events: MetricEventRow[];
}

export async function metricRows(db: Db): Promise<MetricRows> {
  // Counts are CAST to INTEGER so both dialects return numbers (PostgreSQL's count is a bigint).
  return {
    incidents: await rawRows<MetricIncidentRow>(
      db,
      sql`SELECT id, mode, severity, status, phase, opened_at, closed_at, needs_attention_at FROM incidents`,
    ),
    alerts: await rawRows(
      db,
      sql`
      SELECT i.mode AS mode, a.source AS source, CAST(count(*) AS INTEGER) AS received,
        CAST(sum(CASE WHEN a.seq > (SELECT min(b.seq) FROM alerts b WHERE b.incident_id = a.incident_id)
            THEN 1 ELSE 0 END) AS INTEGER) AS deduplicated
      FROM alerts a JOIN incidents i ON i.id = a.incident_id
      GROUP BY i.mode, a.source`,
    ),
    failures: await rawRows(
      db,
      sql`
      SELECT coalesce(${jsonField(db, sql`inputs`, 'mode')}, 'live') AS mode, action, outcome,
        CAST(count(*) AS INTEGER) AS n
      FROM audit_log WHERE outcome IN ('error', 'failed', 'unverified', 'simulated_failure')
      GROUP BY 1, 2, 3`,
    ),
    runs: await rawRows(
      db,
      sql`SELECT mode, action, status, started_at, finished_at FROM action_runs WHERE finished_at IS NOT NULL`,
    ),
    events: await rawRows<MetricEventRow>(
      db,
      sql`
      SELECT incident_id, at, kind, actor, data FROM timeline
      WHERE kind LIKE 'step.%' OR kind LIKE 'approval.%' OR kind = 'milestone'
        OR (actor NOT IN ('firebreak', 'intake') AND actor NOT LIKE 'playbook:%')
      ORDER BY id`,
    ),
  };
}
