/**
 * The stand-alone release of containment: the only way, besides a playbook's own approved
 * re-enable step, that a contained agent comes back. A signed `requestRelease` by a decider
 * opens an approval step `release_<n>` (k-of-n: `IncidentStart.release.minApprovals`, default 2
 * distinct people; the incident's requester may not approve, one person's API and Slack ids are
 * one approver), decided through `decideApproval` on every surface like any approval. It works
 * while the playbook runs and after it stopped (completed, aborted, needing attention).
 *
 * Approved: while the playbook still runs it is aborted as a release (every completed action is
 * undone, containment too); once it has stopped, the undo of each containment still held runs,
 * newest first, as the catalog (or the step's `compensation`) declares it. Rejected or lapsed:
 * nothing is undone, and the timeline says the containment is kept.
 */
import { condition } from '@temporalio/workflow';
import { DEFAULT_RELEASE_POLICY, type Actor, type Phase, type StepState } from '../domain/incident';
import type { ActionStep, ApprovalStep } from '../domain/playbook';
import { runCompensation } from './compensation';
import { personOf } from './decisions';
import { nowIso, type PlaybookContext } from './playbook-context';
import type { ReleaseRecord } from './playbook-model';
import { approvalLike, showApproval } from './slack-notify';
import { setStep } from './step-transitions';

/** Who may approve a release: the deciders (config roles) and every approver the playbook names. */
export function releaseApprovers(ctx: PlaybookContext): ApprovalStep['approvers'] {
  const users = new Set<string>();
  const groups = new Set<string>();
  const roles = new Set<string>(ctx.input.deciderRoles ?? []);
  for (const { step } of ctx.index.values()) {
    if (step.kind !== 'approval') continue;
    for (const u of step.approvers.users) users.add(u);
    for (const g of step.approvers.groups) groups.add(g);
    for (const r of step.approvers.roles) roles.add(r);
  }
  return { users: [...users], groups: [...groups], roles: [...roles] };
}

/** The release approval still waiting for its decision, if any. */
export function pendingRelease(ctx: PlaybookContext): ReleaseRecord | undefined {
  return (ctx.run.releases ?? []).find((r) => ctx.run.steps[r.step.id]?.approved === undefined);
}

/**
 * Opens a release approval for what is contained now (synchronously, so an approval sent right
 * after the request finds its step waiting) and returns its record; `runRelease` waits for it.
 */
export function openRelease(ctx: PlaybookContext, actor: Actor, reason: string): ReleaseRecord {
  const releases = (ctx.run.releases ??= []);
  const id = `release_${releases.length + 1}`;
  const policy = ctx.input.release ?? DEFAULT_RELEASE_POLICY;
  const held = ctx.run.compensations.filter((c) => ctx.holds(c));
  const undo = held.map((c): ActionStep => ({
    id: `${id}.${c.stepId}`,
    kind: 'action',
    action: c.action,
    params: c.params,
    require_verified: false,
    on_failure: 'continue',
  }));
  const step: ApprovalStep = {
    id,
    kind: 'approval',
    prompt: `Release the containment of ${ctx.input.agentId ?? 'this incident'} (${held.map((c) => c.stepId).join(', ')}): ${reason}. Requested by ${actor.name ?? actor.id}`,
    approvers: releaseApprovers(ctx),
    min_approvals: policy.minApprovals,
    timeout: policy.timeout,
    on_timeout: 'reject',
    on_reject: 'continue',
    on_failure: 'continue',
    steps: undo,
  };
  const phase: Phase = ctx.run.phase === 'done' ? 'remediate' : ctx.run.phase;
  const at = nowIso();
  const record: ReleaseRecord = { step, phase, requestedBy: personOf(actor), reason, at };
  releases.push(record);
  ctx.index.set(id, { step, phase });
  for (const u of undo) ctx.index.set(u.id, { step: u, phase });
  ctx.run.steps[id] = {
    id,
    kind: 'approval',
    phase,
    status: 'waiting',
    approvals: [],
    requester: ctx.input.requestedBy,
    deadline: ctx.deadlineAfter(policy.timeout),
    escalated: false,
    startedAt: at,
  };
  return record;
}

/** Waits for the release's decision and acts on it; re-entrant across continue-as-new. */
export async function runRelease(ctx: PlaybookContext, record: ReleaseRecord): Promise<void> {
  const { step, phase } = record;
  const state = ctx.run.steps[step.id]!;
  if (state.approved === undefined) {
    await setStep(
      ctx,
      step,
      phase,
      { status: 'waiting' },
      `Release requested by ${record.requestedBy}: ${record.reason}`,
    );
    showApproval(ctx.incidentId, approvalLike(ctx, step, state));
    state.approved = await decision(ctx, step, state);
  }
  if (state.status !== 'waiting' && state.status !== 'running') return;
  const votes = state.approvals ?? [];
  const reject = votes.find((a) => a.decision === 'reject');
  if (!state.approved) return await keep(ctx, record, state, reject);
  const approvers = votes.filter((a) => a.decision === 'approve').map((a) => a.actorId);
  const by = approvers.at(-1)!;
  if (state.status === 'waiting') {
    await setStep(ctx, step, phase, { status: 'running' }, `Release approved by ${approvers.join(', ')}`);
    showApproval(ctx.incidentId, approvalLike(ctx, step, state), {
      decision: 'approved',
      at: nowIso(),
      by: { id: by },
    });
  }
  await release(ctx, record, approvers);
}

/** True once k distinct approvals arrived, false on a rejection or when the deadline passed. */
async function decision(ctx: PlaybookContext, step: ApprovalStep, state: StepState): Promise<boolean> {
  const count = (d: 'approve' | 'reject') => (state.approvals ?? []).filter((a) => a.decision === d).length;
  const decided = () => count('approve') >= step.min_approvals || count('reject') > 0;
  if (!decided()) {
    const remaining = Date.parse(state.deadline!) - Date.now();
    if (remaining > 0) await condition(decided, remaining);
  }
  return count('reject') === 0 && count('approve') >= step.min_approvals;
}

/** Rejected or lapsed: containment stays, and the timeline says so. */
async function keep(
  ctx: PlaybookContext,
  record: ReleaseRecord,
  state: StepState,
  reject: { actorId: string; reason?: string } | undefined,
): Promise<void> {
  const { step, phase } = record;
  const why = reject
    ? `rejected by ${reject.actorId}${reject.reason ? `: ${reject.reason}` : ''}`
    : `no ${step.min_approvals} approvals before ${state.deadline}`;
  if (reject) await setStep(ctx, step, phase, { status: 'rejected' }, `Release ${step.id} ${why}`);
  else
    await setStep(
      ctx,
      step,
      phase,
      { status: 'failed', error: 'timed out' },
      `Release ${step.id} lapsed: ${why}`,
    );
  showApproval(ctx.incidentId, approvalLike(ctx, step, state), {
    decision: reject ? 'rejected' : 'expired',
    at: nowIso(),
    ...(reject ? { by: { id: reject.actorId }, ...(reject.reason ? { reason: reject.reason } : {}) } : {}),
  });
  await ctx.project('recordTimeline', {
    incidentId: ctx.incidentId,
    kind: reject ? 'release.rejected' : 'release.timed_out',
    actor: reject?.actorId ?? ctx.actor,
    message: `Release ${step.id} ${why}; containment kept`,
    data: { stepId: step.id, contained: heldSteps(ctx) },
    eventKey: `${ctx.incidentId}:release:${step.id}:kept`,
    at: nowIso(),
  });
}

/**
 * Approved: a running playbook is aborted as a release (its unwinding undoes everything); then
 * whatever containment is still held is undone, newest first, under the approver who completed
 * k-of-n. An undo that fails stays owed, and the step says so.
 */
async function release(ctx: PlaybookContext, record: ReleaseRecord, approvers: string[]): Promise<void> {
  const { step, phase } = record;
  const by = approvers.at(-1)!;
  if (ctx.run.status === 'running') {
    ctx.run.abortRequested ??= {
      actor: by,
      reason: `containment released (${step.id}, approved by ${approvers.join(', ')})`,
      release: true,
    };
    await condition(() => ctx.run.status !== 'running');
  }
  const failed: string[] = [];
  const owed = ctx.run.compensations;
  for (const c of [...owed].reverse()) {
    if (!ctx.holds(c)) continue;
    if (await runCompensation(ctx, c, by)) owed.splice(owed.indexOf(c), 1);
    else failed.push(c.stepId);
  }
  const outcome = failed.length === 0 ? 'released' : `not released: the undo of ${failed.join(', ')} failed`;
  await setStep(
    ctx,
    step,
    phase,
    failed.length === 0 ? { status: 'succeeded' } : { status: 'failed', error: outcome },
    `Release ${step.id}: containment ${outcome}`,
    by,
  );
  await ctx.project('recordTimeline', {
    incidentId: ctx.incidentId,
    kind: failed.length === 0 ? 'containment.released' : 'release.failed',
    actor: by,
    message: `Containment ${outcome} (${step.id}, approved by ${approvers.join(', ')})`,
    data: { stepId: step.id, approvers, failed, contained: heldSteps(ctx) },
    eventKey: `${ctx.incidentId}:release:${step.id}:done`,
    at: nowIso(),
  });
}

function heldSteps(ctx: PlaybookContext): string[] {
  return ctx.run.compensations.filter((c) => ctx.holds(c)).map((c) => c.stepId);
}
