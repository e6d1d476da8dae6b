/**
 * The after-action report of a drill, built from what the drill left in the DB: the timeline
 * (offsets in scenario time), each expectation's verdict with its timing, approval latencies, who
 * did what, the simulated action_runs with their exact inputs (what the playbook would have
 * changed in production), the evidence each evidence step would have collected and from which
 * sources, and improvement items from missed expectations and failed steps. It is
 * served as JSON by the API and written as Markdown to DATA_DIR/drills/<incident>/report.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { actionRunsOf } from '../db/action-runs';
import type { Db } from '../db/client';
import { drillRow, finishDrill } from '../db/drills';
import { getIncident } from '../db/incidents';
import { incidentTimeline } from '../db/timeline';
import { EVIDENCE_KIND_SOURCES, isEvidenceKind } from '../domain/evidence-kinds';
import { renderMarkdown, type AfterActionReport } from './report-render';
import { fmtOffset, scoreExpectations } from './scoring';
import { scenarioOf } from './store';

const stepId = (d: Record<string, unknown> | null) => (typeof d?.stepId === 'string' ? d.stepId : '');

export async function buildReport(db: Db, incidentId: string): Promise<AfterActionReport | undefined> {
  const row = await drillRow(db, incidentId);
  const stored = (row?.result as { notes?: unknown } | null | undefined)?.notes;
  const notes = Array.isArray(stored) ? stored.map(String) : [];
  const inc = await getIncident(db, incidentId);
  if (!row || !inc) return undefined;
  const scenario = scenarioOf(row);
  const rows = await incidentTimeline(db, incidentId);
  const t0 = Date.parse(row.startedAt);
  const off = (at: string) => fmtOffset(Math.max(0, (Date.parse(at) - t0) * row.speed));
  const expectations = scoreExpectations(scenario.expectations, rows, {
    startedAt: row.startedAt,
    speed: row.speed,
  });
  const approvals = rows
    .filter((r) => r.kind === 'step.waiting' && r.data?.kind === 'approval')
    .map((w) => {
      const id = stepId(w.data);
      const end = rows.find(
        (r) =>
          (r.kind === 'step.running' || r.kind === 'step.rejected' || r.kind === 'step.failed') &&
          stepId(r.data) === id,
      );
      const by = rows
        .filter(
          (r) => r.kind.startsWith('approval.') && stepId(r.data) === id && r.kind !== 'approval.escalated',
        )
        .map((r) => r.actor);
      return {
        stepId: id,
        requestedAt: off(w.at),
        ...(end
          ? {
              decidedAt: off(end.at),
              latency: fmtOffset((Date.parse(end.at) - Date.parse(w.at)) * row.speed).slice(2),
            }
          : {}),
        outcome: end ? (end.kind === 'step.running' ? 'approved' : end.kind.slice(5)) : 'pending',
        by,
      };
    });
  const byActor = new Map<string, Set<string>>();
  const counts = new Map<string, number>();
  for (const r of rows) {
    byActor.set(r.actor, (byActor.get(r.actor) ?? new Set()).add(r.kind));
    counts.set(r.actor, (counts.get(r.actor) ?? 0) + 1);
  }
  const runs = await actionRunsOf(db, incidentId);
  const simulatedActions = runs.map((r) => ({
    stepId: r.stepId,
    action: r.action,
    mode: r.mode,
    params: r.params,
    status: r.status,
    ...(typeof (r.result as { summary?: unknown } | null)?.summary === 'string'
      ? { summary: (r.result as { summary: string }).summary }
      : {}),
  }));
  const evidence = runs
    .filter((r) => r.action === 'evidence.collect')
    .map((r) => {
      const kind = String((r.params as { kind?: unknown }).kind ?? '');
      const spec = isEvidenceKind(kind) ? EVIDENCE_KIND_SOURCES[kind] : undefined;
      return {
        stepId: r.stepId,
        kind,
        sources: spec?.sources ?? [],
        ...(spec?.unsupported ? { unsupported: spec.unsupported } : {}),
      };
    });
  const improvements = [
    ...expectations
      .filter((e) => e.verdict !== 'met')
      .map((e) => `Expectation ${e.id} (${e.description}) ${e.verdict}: ${e.detail}`),
    ...rows.filter((r) => r.kind === 'step.failed').map((r) => `Step ${stepId(r.data)} failed: ${r.message}`),
    ...notes.map((n) => `Responder action rejected: ${n}`),
  ];
  return {
    incidentId,
    scenario: { id: scenario.id, title: scenario.title, playbook: scenario.playbook },
    mode: inc.mode,
    speed: row.speed,
    status: row.status,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    passed: expectations.every((e) => e.verdict === 'met'),
    expectations,
    timeline: rows.map((r) => ({
      offset: off(r.at),
      at: r.at,
      kind: r.kind,
      actor: r.actor,
      message: r.message,
    })),
    approvals,
    actors: [...byActor].map(([actor, kinds]) => ({
      actor,
      actions: counts.get(actor) ?? 0,
      kinds: [...kinds],
    })),
    simulatedActions,
    evidence,
    improvements,
  };
}

export function reportPathFor(dataDir: string, incidentId: string): string {
  return path.join(dataDir, 'drills', incidentId, 'report.md');
}

/**
 * Scores the drill as it stands, stores its status (responder problems kept with it) and writes
 * report.md; called when a drill ends and again after each facilitator judgement.
 */
export async function settleDrill(db: Db, dataDir: string, incidentId: string, notes?: string[]) {
  const row = await drillRow(db, incidentId);
  if (!row) throw new Error(`no drill ${incidentId}`);
  const stored = (row.result as { notes?: string[] } | null)?.notes ?? [];
  const kept = notes ?? stored;
  const scenario = scenarioOf(row);
  const rows = await incidentTimeline(db, incidentId);
  const results = scoreExpectations(scenario.expectations, rows, {
    startedAt: row.startedAt,
    speed: row.speed,
  });
  const missed = results.filter((e) => e.verdict !== 'met').map((e) => e.id);
  const at = row.finishedAt ?? new Date().toISOString();
  await finishDrill(db, incidentId, missed.length === 0 ? 'passed' : 'failed', { missed, notes: kept }, at);
  const report = (await buildReport(db, incidentId))!;
  const reportPath = reportPathFor(dataDir, incidentId);
  fs.mkdirSync(path.dirname(reportPath), { recursive: true });
  fs.writeFileSync(reportPath, renderMarkdown(report));
  return { report, reportPath, missed };
}

export { renderAfterActionSummary, renderMarkdown, type AfterActionReport } from './report-render';
