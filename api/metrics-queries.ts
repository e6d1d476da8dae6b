/**
 * What `/metrics` exports, read from the DB at scrape time: every figure is recomputed from the
 * stored incidents, alerts, timeline, action runs and audit log, so API and worker processes (and
 * restarts) never disagree and nothing is double counted. Each sample carries the incident's
 * `mode`, so drills stay out of `mode="live"` series. Durations reuse the post-mortem's own
 * computations (domain/response-metrics.ts): a dashboard and a report show the same numbers.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import {
  approvalsOf,
  responseMetrics,
  secondsBetween,
  stepDurations,
  type FactEvent,
} from '../domain/response-metrics';

type Labels = Record<string, string>;
export interface Sample {
  labels: Labels;
  value: number;
}

export interface MetricFacts {
  opened: Sample[];
  closed: Sample[];
  open: Sample[];
  alertsReceived: Sample[];
  alertsDeduplicated: Sample[];
  connectorFailures: Sample[];
  /** Observations (one per event) for the histograms. */
  stepSeconds: Sample[];
  actionSeconds: Sample[];
  approvalSeconds: Sample[];
  responseSeconds: Sample[];
}

interface IncidentRow {
  id: string;
  mode: string;
  severity: string;
  status: string;
  phase: string;
  opened_at: string;
  closed_at: string | null;
}
interface EventRow {
  incident_id: string;
  at: string;
  kind: string;
  actor: string;
  data: string | null;
}

function groupEvents(rows: EventRow[]): Map<string, FactEvent[]> {
  const out = new Map<string, FactEvent[]>();
  for (const r of rows) {
    const list = out.get(r.incident_id) ?? [];
    list.push({ at: r.at, kind: r.kind, actor: r.actor, data: r.data ? JSON.parse(r.data) : null });
    out.set(r.incident_id, list);
  }
  return out;
}

const count = <T>(rows: T[], labels: (r: T) => Labels, value: (r: T) => number): Sample[] =>
  rows.map((r) => ({ labels: labels(r), value: value(r) }));

export function readMetricFacts(db: Db): MetricFacts {
  const incidents = db.all<IncidentRow>(
    sql`SELECT id, mode, severity, status, phase, opened_at, closed_at FROM incidents`,
  );
  const tally = (rows: IncidentRow[], keys: (keyof IncidentRow)[]) => {
    const m = new Map<string, Sample>();
    for (const r of rows) {
      const labels = Object.fromEntries(keys.map((k) => [k, String(r[k])]));
      const k = JSON.stringify(labels);
      const s = m.get(k) ?? { labels, value: 0 };
      s.value++;
      m.set(k, s);
    }
    return [...m.values()];
  };

  const alertRows = db.all<{ mode: string; source: string; received: number; deduplicated: number }>(sql`
    SELECT i.mode AS mode, a.source AS source, count(*) AS received,
      sum(CASE WHEN a.seq > (SELECT min(b.seq) FROM alerts b WHERE b.incident_id = a.incident_id)
          THEN 1 ELSE 0 END) AS deduplicated
    FROM alerts a JOIN incidents i ON i.id = a.incident_id
    GROUP BY i.mode, a.source`);
  const failures = db.all<{ mode: string; action: string; outcome: string; n: number }>(sql`
    SELECT coalesce(json_extract(inputs, '$.mode'), 'live') AS mode, action, outcome, count(*) AS n
    FROM audit_log WHERE outcome IN ('error', 'failed', 'unverified', 'simulated_failure')
    GROUP BY 1, 2, 3`);
  const runs = db.all<{
    mode: string;
    action: string;
    status: string;
    started_at: string;
    finished_at: string;
  }>(
    sql`SELECT mode, action, status, started_at, finished_at FROM action_runs WHERE finished_at IS NOT NULL`,
  );
  const events = groupEvents(
    db.all<EventRow>(sql`
      SELECT incident_id, at, kind, actor, data FROM timeline
      WHERE kind LIKE 'step.%' OR kind LIKE 'approval.%' OR kind = 'milestone'
        OR (actor NOT IN ('firebreak', 'intake') AND actor NOT LIKE 'playbook:%')
      ORDER BY id`),
  );

  const stepSeconds: Sample[] = [];
  const approvalSeconds: Sample[] = [];
  const responseSeconds: Sample[] = [];
  for (const inc of incidents) {
    const evs = events.get(inc.id) ?? [];
    for (const d of stepDurations(evs)) {
      stepSeconds.push({ labels: { mode: inc.mode, kind: d.kind, status: d.status }, value: d.seconds });
    }
    for (const a of approvalsOf(evs)) {
      if (a.wait_seconds !== null)
        approvalSeconds.push({ labels: { mode: inc.mode, decision: a.decision }, value: a.wait_seconds });
    }
    const m = responseMetrics({ openedAt: inc.opened_at, closedAt: inc.closed_at }, evs);
    const stages = {
      acknowledge: m.time_to_acknowledge_seconds,
      contain: m.time_to_contain_seconds,
      remediate: m.time_to_remediate_seconds,
      close: m.time_to_close_seconds,
    };
    for (const [stage, value] of Object.entries(stages)) {
      if (value !== null)
        responseSeconds.push({ labels: { mode: inc.mode, severity: inc.severity, stage }, value });
    }
  }

  return {
    opened: tally(incidents, ['mode', 'severity']),
    closed: tally(
      incidents.filter((i) => i.status === 'closed'),
      ['mode', 'severity'],
    ),
    open: tally(
      incidents.filter((i) => i.status !== 'closed'),
      ['mode', 'phase'],
    ),
    alertsReceived: count(
      alertRows,
      (r) => ({ mode: r.mode, source: r.source }),
      (r) => r.received,
    ),
    alertsDeduplicated: count(
      alertRows,
      (r) => ({ mode: r.mode, source: r.source }),
      (r) => r.deduplicated,
    ),
    connectorFailures: count(
      failures,
      (r) => ({ mode: r.mode, action: r.action, outcome: r.outcome }),
      (r) => r.n,
    ),
    stepSeconds,
    actionSeconds: count(
      runs,
      (r) => ({ mode: r.mode, action: r.action, status: r.status }),
      (r) => secondsBetween(r.started_at, r.finished_at),
    ),
    approvalSeconds,
    responseSeconds,
  };
}
