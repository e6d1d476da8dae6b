/**
 * Scores a drill's expectations from its timeline, as a pure function of the rows (fixed
 * timestamps in, verdicts out), so scoring is testable without Temporal. Elapsed times are
 * measured from the drill's start and expanded by its speed factor back into scenario time, the
 * unit the expectations' deadlines are written in. `approved_within` counts from the approval
 * request (the approvers' latency); `event_within` from the drill's start. A facilitator's judgement (a `drill.judged`
 * timeline event) overrides the automatic verdict; the latest judgement of an expectation wins.
 */
import { durationMs } from '../domain/duration';
import { type Expectation } from './schema';

export interface TimelineRow {
  at: string;
  kind: string;
  actor: string;
  message: string;
  data: Record<string, unknown> | null;
}

export type Verdict = 'met' | 'missed' | 'pending';

export interface ExpectationResult {
  id: string;
  type: Expectation['type'];
  description: string;
  verdict: Verdict;
  /** Scenario time (ms since the drill started) of the deciding event, if any. */
  atMs?: number;
  detail: string;
  judgedBy?: string;
}

const stepOf = (r: TimelineRow) => (typeof r.data?.stepId === 'string' ? r.data.stepId : undefined);
const phaseOf = (r: TimelineRow) => (typeof r.data?.phase === 'string' ? r.data.phase : undefined);

export function fmtOffset(msValue: number): string {
  const s = Math.round(msValue / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `T+${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec}s`;
}

export function describe(e: Expectation): string {
  if (e.description) return e.description;
  switch (e.type) {
    case 'approved_within':
      return `${e.step} approved within ${e.within} of the request`;
    case 'event_within':
      return `a ${e.kind} event within ${e.within}`;
    case 'before':
      return `${e.first} done before ${e.then} starts`;
    case 'retried':
      return `${e.step} retried after failing`;
    case 'step_status':
      return `${e.step} ends ${e.status}`;
    case 'outcome':
      return `the playbook is ${e.outcome}`;
    case 'facilitator':
      return e.question;
  }
}

function doneAt(rows: TimelineRow[], target: string): TimelineRow | undefined {
  const [kind, id] = target.split(':') as [string, string];
  if (kind === 'phase') return rows.find((r) => r.kind === 'milestone' && phaseOf(r) === id);
  return rows.find((r) => r.kind === 'step.succeeded' && stepOf(r) === id);
}

function startAt(rows: TimelineRow[], target: string): TimelineRow | undefined {
  const [kind, id] = target.split(':') as [string, string];
  if (kind === 'phase') return rows.find((r) => r.kind === 'phase.started' && phaseOf(r) === id);
  return rows.find((r) => r.kind.startsWith('step.') && r.kind !== 'step.skipped' && stepOf(r) === id);
}

function auto(e: Expectation, rows: TimelineRow[], elapsed: (r: TimelineRow) => number) {
  const within = (r: TimelineRow | undefined, limit: string, what: string) => {
    if (!r) return { verdict: 'missed' as const, detail: `${what} never happened` };
    const t = elapsed(r);
    const ok = t <= durationMs(limit);
    return {
      verdict: ok ? ('met' as const) : ('missed' as const),
      atMs: t,
      detail: `${what} at ${fmtOffset(t)}${ok ? '' : ` (deadline ${limit})`}`,
    };
  };
  switch (e.type) {
    case 'approved_within': {
      // Measured from the request: the approvers' latency, whatever ran before the gate.
      const asked = rows.find((r) => r.kind === 'step.waiting' && stepOf(r) === e.step);
      const decided = rows.find(
        (r) => (r.kind === 'step.running' || r.kind === 'step.rejected') && stepOf(r) === e.step,
      );
      if (!asked || !decided) return { verdict: 'missed' as const, detail: `${e.step} was never approved` };
      const latency = elapsed(decided) - elapsed(asked);
      if (decided.kind === 'step.rejected')
        return { verdict: 'missed' as const, atMs: elapsed(decided), detail: `${e.step} was rejected` };
      const ok = latency <= durationMs(e.within);
      return {
        verdict: ok ? ('met' as const) : ('missed' as const),
        atMs: elapsed(decided),
        detail: `${e.step} approved ${fmtOffset(latency).slice(2)} after the request${ok ? '' : ` (deadline ${e.within})`}`,
      };
    }
    case 'event_within':
      return within(
        rows.find((r) => r.kind === e.kind),
        e.within,
        `${e.kind}`,
      );
    case 'before': {
      const first = doneAt(rows, e.first);
      const then = startAt(rows, e.then);
      if (!first) return { verdict: 'missed' as const, detail: `${e.first} never completed` };
      if (then && Date.parse(then.at) < Date.parse(first.at))
        return {
          verdict: 'missed' as const,
          atMs: elapsed(then),
          detail: `${e.then} started at ${fmtOffset(elapsed(then))}, before ${e.first} completed at ${fmtOffset(elapsed(first))}`,
        };
      return {
        verdict: 'met' as const,
        atMs: elapsed(first),
        detail: `${e.first} completed at ${fmtOffset(elapsed(first))}${then ? `, ${e.then} started at ${fmtOffset(elapsed(then))}` : ''}`,
      };
    }
    case 'retried': {
      const error = rows.findIndex((r) => r.kind === 'action.error' && stepOf(r) === e.step);
      const after =
        error >= 0
          ? rows.slice(error + 1).find((r) => r.kind.startsWith('step.') && stepOf(r) === e.step)
          : undefined;
      if (!after)
        return {
          verdict: 'missed' as const,
          detail: error < 0 ? `${e.step} never failed` : `${e.step} was not retried`,
        };
      return {
        verdict: 'met' as const,
        atMs: elapsed(after),
        detail: `${e.step} failed, then ${after.kind.slice(5)} at ${fmtOffset(elapsed(after))}`,
      };
    }
    case 'step_status': {
      const last = rows.filter((r) => r.kind.startsWith('step.') && stepOf(r) === e.step).pop();
      const status = last?.kind.slice(5) ?? 'never ran';
      return {
        verdict: status === e.status ? ('met' as const) : ('missed' as const),
        ...(last ? { atMs: elapsed(last) } : {}),
        detail: `${e.step}: ${status}`,
      };
    }
    case 'outcome': {
      const end = rows.find((r) => r.kind === 'playbook.completed' || r.kind === 'playbook.aborted');
      if (!end) return { verdict: 'missed' as const, detail: 'the playbook did not finish' };
      const ok = end.kind === `playbook.${e.outcome}`;
      return {
        verdict: ok ? ('met' as const) : ('missed' as const),
        atMs: elapsed(end),
        detail: end.message,
      };
    }
    case 'facilitator':
      return { verdict: 'pending' as const, detail: 'awaiting the facilitator' };
  }
}

export function scoreExpectations(
  expectations: Expectation[],
  rows: TimelineRow[],
  opts: { startedAt: string; speed: number },
): ExpectationResult[] {
  const t0 = Date.parse(opts.startedAt);
  const elapsed = (r: TimelineRow) => Math.max(0, (Date.parse(r.at) - t0) * opts.speed);
  const sorted = [...rows].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return expectations.map((e) => {
    const base = { id: e.id, type: e.type, description: describe(e), ...auto(e, sorted, elapsed) };
    const judged = sorted.filter((r) => r.kind === 'drill.judged' && r.data?.expectation === e.id).pop();
    if (!judged) return base;
    const verdict = judged.data?.verdict === 'met' ? 'met' : 'missed';
    return {
      ...base,
      verdict,
      detail: `judged ${verdict} by ${judged.actor}: ${judged.message}`,
      judgedBy: judged.actor,
    };
  });
}

export const allMet = (results: ExpectationResult[]) => results.every((r) => r.verdict === 'met');
