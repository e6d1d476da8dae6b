/**
 * Pure helpers of the playbook interpreter: the run state carried across continue-as-new, the
 * step index, the expression scope built from the incident and earlier steps, durations, and the
 * view the `playbookState` query answers. No Temporal APIs here, so all of it is unit-testable.
 */
import { isContaining } from '../domain/action-catalog';
import type { IncidentStart, Phase, PlaybookState, PlaybookStatus, StepState } from '../domain/incident';
import { PHASES } from '../domain/phases';
import type { ApprovalStep, ManualTaskStep, Playbook, Step } from '../domain/playbook';
import { render } from '../playbooks/expr';
import { childLists } from '../playbooks/step-tree';

export { AGENT_FIELDS, ALERT_FIELDS, INCIDENT_FIELDS, STEP_FIELDS } from '../playbooks/scope';

/**
 * A completed action and its undo. An abort runs the undo of every entry except containment
 * (`contains`): those stay owed until an explicit release decision, whatever stopped the run.
 */
export interface CompensationEntry {
  stepId: string;
  action: string;
  params: Record<string, unknown>;
  /** The action done was a containment action (catalog `contains`). */
  contains?: boolean;
}

/**
 * Whether an entry undoes a containment: its flag, or (for entries carried without one) the
 * catalog marker of the action its step performed.
 */
export function holdsContainment(c: CompensationEntry, index: Map<string, IndexedStep>): boolean {
  if (c.contains) return true;
  const step = index.get(c.stepId)?.step;
  return step?.kind === 'action' && isContaining(step.action);
}

/** Why the incident needs a human (see workflows/needs-attention.ts). */
export interface NeedsAttention {
  reason: string;
  stepId?: string;
  at: string;
}

/** Everything the interpreter knows; carried whole into the next run on continue-as-new. */
export interface PlaybookRun {
  status: PlaybookStatus;
  phase: Phase | 'done';
  steps: Record<string, StepState>;
  compensations: CompensationEntry[];
  milestones: Phase[];
  /**
   * Carried, so an abort requested before continue-as-new still aborts (and compensates).
   * `stepId`: the failed step that caused it; `release`: an explicit release decision, the only
   * abort that also undoes containment.
   */
  abortRequested?: { actor: string; reason: string; stepId?: string; release?: boolean };
  abortReason?: string;
  needsAttention?: NeedsAttention;
  /** Stand-alone release requests, in order (workflows/release.ts): each one approval step. */
  releases?: ReleaseRecord[];
}

/** A release request: its approval step's definition (built once, then carried) and who asked. */
export interface ReleaseRecord {
  step: ApprovalStep;
  phase: Phase;
  requestedBy: string;
  reason: string;
  at: string;
}

export function newRun(): PlaybookRun {
  return { status: 'running', phase: 'assess', steps: {}, compensations: [], milestones: [] };
}

export interface IndexedStep {
  step: Step;
  phase: Phase;
}

/** Every step (nested ones too) by id, in document order. */
export function indexSteps(def: Playbook): Map<string, IndexedStep> {
  const out = new Map<string, IndexedStep>();
  const walk = (steps: Step[], phase: Phase) => {
    for (const step of steps) {
      out.set(step.id, { step, phase });
      for (const list of childLists(step)) walk(list, phase);
    }
  };
  for (const phase of PHASES) walk(def.phases[phase] ?? [], phase);
  return out;
}

/** The run's step index: the playbook's steps, then the release approvals it opened. */
export function indexRun(def: Playbook, run: PlaybookRun): Map<string, IndexedStep> {
  const out = indexSteps(def);
  for (const r of run.releases ?? []) out.set(r.step.id, { step: r.step, phase: r.phase });
  return out;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`bad duration ${d}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function inputValues(input: IncidentStart): Record<string, unknown> {
  const declared = input.playbook?.definition.inputs ?? {};
  const values: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(declared)) values[k] = input.inputs?.[k] ?? spec.default;
  return values;
}

export function buildScope(input: IncidentStart, run: PlaybookRun): Record<string, unknown> {
  const steps: Record<string, unknown> = {};
  for (const s of Object.values(run.steps)) {
    steps[s.id] = {
      status: s.status,
      ok: s.ok ?? false,
      verified: s.verified ?? false,
      output: s.output ?? {},
      summary: s.summary,
      approved: s.approved ?? false,
      approvals: (s.approvals ?? []).filter((a) => a.decision === 'approve').length,
      completed_by: s.completedBy,
      branch: s.branch,
    };
  }
  return {
    incident: {
      id: input.incidentId,
      key: input.key,
      title: input.title,
      severity: input.severity,
      source: input.source,
      mode: input.mode,
      agent_id: input.agentId,
      opened_at: input.openedAt,
      requested_by: input.requestedBy,
    },
    alert: { title: input.title, severity: input.severity, source: input.source, labels: input.labels ?? {} },
    agent: { id: input.agentId },
    inputs: inputValues(input),
    steps,
  };
}

/** The actions a step's nested steps run (what approving an approval step lets happen). */
function nestedActions(step: Step): string[] {
  return childLists(step).flatMap((list) =>
    list.flatMap((s) => (s.kind === 'action' ? [s.action, ...nestedActions(s)] : nestedActions(s))),
  );
}

export function isDone(s: StepState | undefined): boolean {
  return s !== undefined && ['succeeded', 'failed', 'skipped', 'rejected', 'compensated'].includes(s.status);
}

/** A prompt or task text with its `${{ … }}` templates rendered (a failed expression stays as written). */
export function renderedText(text: string, scope: Record<string, unknown> | undefined): string {
  if (!scope) return text;
  try {
    const out = render(text, scope);
    return typeof out === 'string' ? out : JSON.stringify(out);
  } catch {
    return text;
  }
}

export function viewOf(
  pinned: IncidentStart['playbook'] & object,
  run: PlaybookRun,
  scope?: Record<string, unknown>,
): PlaybookState {
  const index = indexRun(pinned.definition, run);
  const steps = [...index.keys()].flatMap((id) => (run.steps[id] ? [run.steps[id]] : []));
  const waiting = steps.filter((s) => s.status === 'waiting');
  return {
    id: pinned.id,
    version: pinned.version,
    hash: pinned.hash,
    status: run.status,
    phase: run.phase,
    steps,
    pendingApprovals: waiting
      .filter((s) => s.kind === 'approval')
      .map((s) => {
        const def = index.get(s.id)!.step as ApprovalStep;
        return {
          stepId: s.id,
          prompt: renderedText(def.prompt, scope),
          approvers: def.approvers,
          minApprovals: def.min_approvals,
          approvals: (s.approvals ?? []).filter((a) => a.decision === 'approve').length,
          requester: s.requester,
          deadline: s.deadline,
          escalated: s.escalated ?? false,
          actions: nestedActions(def),
        };
      }),
    openTasks: waiting
      .filter((s) => s.kind === 'manual_task')
      .map((s) => ({
        stepId: s.id,
        task: renderedText((index.get(s.id)!.step as ManualTaskStep).task, scope),
        deadline: s.deadline,
      })),
    ...(run.abortReason ? { abortReason: run.abortReason } : {}),
    ...(run.needsAttention ? { needsAttention: run.needsAttention } : {}),
    contained: run.compensations.filter((c) => holdsContainment(c, index)).map((c) => c.stepId),
  };
}
