/**
 * What `/metrics` exports, read from the DB at scrape time (db/metrics.ts): every figure is
 * recomputed from the stored incidents, alerts, timeline, action runs and audit log, so API and
 * worker processes (and restarts) never disagree and nothing is double counted. Each sample
 * carries the incident's `mode`, so drills stay out of `mode="live"` series. Durations reuse the
 * post-mortem's own computations (domain/response-metrics.ts): a dashboard and a report show the
 * same numbers.
 */
import type { Db } from '../db/client';
import { metricRows, type MetricEventRow, type MetricIncidentRow } from '../db/metrics';
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
  /** Incidents not closed that need a human (containment holds, the playbook stopped). */
  needsAttention: Sample[];
  /** Every incident ever marked as needing attention. */
  needsAttentionTotal: Sample[];
  alertsReceived: Sample[];
  alertsDeduplicated: Sample[];
  connectorFailures: Sample[];
  /** Observations (one per event) for the histograms. */
  stepSeconds: Sample[];
  actionSeconds: Sample[];
  approvalSeconds: Sample[];
  responseSeconds: Sample[];
}

type IncidentRow = MetricIncidentRow;

function groupEvents(rows: MetricEventRow[]): Map<string, FactEvent[]> {
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

export async function readMetricFacts(db: Db): Promise<MetricFacts> {
  const rows = await metricRows(db);
  const { incidents, alerts: alertRows, failures, runs } = rows;
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

  const events = groupEvents(rows.events);

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
    needsAttention: tally(
      incidents.filter((i) => i.status !== 'closed' && i.needs_attention_at !== null),
      ['mode', 'severity'],
    ),
    needsAttentionTotal: tally(
      incidents.filter((i) => i.needs_attention_at !== null),
      ['mode', 'severity'],
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
