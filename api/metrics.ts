/**
 * The Prometheus exposition at `GET /metrics`, built with prom-client. Each scrape reads the DB
 * (api/metrics-queries.ts) into a fresh registry, so counters are correct across API and worker
 * processes and restarts, and concurrent scrapes share no state.
 *
 * Drills: every incident-derived series has a `mode` label, `live` or `drill`; production
 * dashboards and alerts select `mode="live"`, and drills never add to those series. The only
 * series without `mode` are the intake refusal counters: they count HTTP requests refused before
 * any incident exists (per process, since the last start).
 *
 * Per-process series sit beside them: intake's group-commit durations and sizes, and prom-client's
 * default process metrics (CPU, memory, GC, event-loop lag), which show whether a slow 202 waited
 * on the disk or on a busy process.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/client';
import type { IntakeMetrics } from './intake-metrics';
import { readMetricFacts, type Sample } from './metrics-queries';

export const STEP_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400];
export const APPROVAL_BUCKETS = [10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 86400];
export const RESPONSE_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200];

function counter(registry: Registry, name: string, help: string, samples: Sample[], labelNames: string[]) {
  const c = new Counter({ name, help, labelNames, registers: [registry] });
  for (const s of samples) c.inc(s.labels, s.value);
}

function histogram(
  registry: Registry,
  name: string,
  help: string,
  buckets: number[],
  samples: Sample[],
  labelNames: string[],
) {
  const h = new Histogram({ name, help, buckets, labelNames, registers: [registry] });
  for (const s of samples) h.observe(s.labels, s.value);
}

function intakeRefusals(intake: IntakeMetrics): Sample[] {
  const of = (reason: string, source: string, value: number) => ({ labels: { reason, source }, value });
  return [
    ...Object.entries(intake.authFailures).map(([reason, n]) => of(reason, 'unknown', n)),
    ...Object.entries(intake.rateLimited).map(([source, n]) => of('rate_limited', source, n)),
    ...Object.entries(intake.invalid).map(([source, n]) => of('invalid', source, n)),
  ].filter((s) => s.value > 0);
}

let processRegistry: Registry | undefined;

/** The process's own metrics: one registry and one event-loop monitor per process, made on first scrape. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 10 });
  }
  return processRegistry;
}

export async function renderMetrics(
  db: Db,
  intake?: IntakeMetrics,
): Promise<{ contentType: string; body: string }> {
  const f = await readMetricFacts(db);
  const r = new Registry();
  counter(r, 'firebreak_incidents_opened_total', 'Incidents opened', f.opened, ['mode', 'severity']);
  counter(r, 'firebreak_incidents_closed_total', 'Incidents closed', f.closed, ['mode', 'severity']);
  const open = new Gauge({
    name: 'firebreak_incidents_open',
    help: 'Incidents not closed, by current phase',
    labelNames: ['mode', 'phase'],
    registers: [r],
  });
  for (const s of f.open) open.set(s.labels, s.value);
  const attention = new Gauge({
    name: 'firebreak_incidents_needs_attention',
    help: 'Open incidents whose containment holds while the playbook stopped: a human must act',
    labelNames: ['mode', 'severity'],
    registers: [r],
  });
  for (const s of f.needsAttention) attention.set(s.labels, s.value);
  counter(
    r,
    'firebreak_incidents_needs_attention_total',
    'Incidents ever marked as needing attention',
    f.needsAttentionTotal,
    ['mode', 'severity'],
  );
  counter(r, 'firebreak_alerts_received_total', 'Alerts stored by intake', f.alertsReceived, [
    'mode',
    'source',
  ]);
  counter(
    r,
    'firebreak_alerts_deduplicated_total',
    'Alerts attached to an incident that was already open',
    f.alertsDeduplicated,
    ['mode', 'source'],
  );
  counter(
    r,
    'firebreak_connector_failures_total',
    'Connector action attempts that errored or did not take effect (audit log outcomes)',
    f.connectorFailures,
    ['mode', 'action', 'outcome'],
  );
  histogram(
    r,
    'firebreak_step_duration_seconds',
    'Playbook step duration, first running/waiting to its final state',
    STEP_BUCKETS,
    f.stepSeconds,
    ['mode', 'kind', 'status'],
  );
  histogram(
    r,
    'firebreak_action_duration_seconds',
    'Connector action duration (action_runs started to finished)',
    STEP_BUCKETS,
    f.actionSeconds,
    ['mode', 'action', 'status'],
  );
  histogram(
    r,
    'firebreak_approval_wait_seconds',
    'Time from an approval request to each decision on it',
    APPROVAL_BUCKETS,
    f.approvalSeconds,
    ['mode', 'decision'],
  );
  histogram(
    r,
    'firebreak_incident_response_seconds',
    'Time from incident open to acknowledge / contain / remediate / close',
    RESPONSE_BUCKETS,
    f.responseSeconds,
    ['mode', 'severity', 'stage'],
  );
  if (intake) {
    counter(
      r,
      'firebreak_intake_refused_total',
      'Intake requests refused (auth, rate limit, invalid); per process since start, no incident mode',
      intakeRefusals(intake),
      ['reason', 'source'],
    );
    r.registerMetric(intake.commitSeconds);
    r.registerMetric(intake.commitRequests);
  }
  const all = Registry.merge([r, processMetrics()]);
  return { contentType: all.contentType, body: await all.metrics() };
}
