/**
 * The one path by which a person's decision reaches an incident workflow from HTTP: the API's
 * decision routes and the console's forms both call `submitDecision`. It checks the incident
 * exists, applies the MFA step-up rule (domain/step-up.ts) to approvals that let an irreversible
 * or containment-releasing action run, resolves the actor on the server side, signs the decision
 * with Firebreak's decision key, runs the update, and maps the workflow's refusals to 403/409.
 * `decision_id` (or a generated one), scoped to the person and step, is the update id: a retried
 * request never decides twice, and nobody can claim another person's decision id.
 */
import crypto from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type UpdateDefinition } from '@temporalio/client';
import { HTTPException } from 'hono/http-exception';
import type { Db } from '../db/client';
import { incidentExists } from '../db/incidents';
import {
  signDecision,
  type DecisionKind,
  type DecisionSigner,
  type UnsignedDecision,
} from '../domain/decision-proof';
import type { Actor, DecisionProof } from '../domain/incident';
import type { PeopleDirectory } from '../domain/people';
import { stepUpProblem, stepUpRule, type StepUpPolicy } from '../domain/step-up';
import { pendingApprovalActions, updateIncident, type TemporalHandle } from '../temporal/client';
import type { ApiUser } from './auth';
import { apiError, type ErrorBody } from './errors';

export interface DecideDeps {
  db: Db;
  temporal: TemporalHandle;
  decisions: DecisionSigner;
  people: PeopleDirectory;
  stepUp: StepUpPolicy;
  now?: () => Date;
}

/** The actor and decision id every playbook update carries. */
export type DecisionBase = { decisionId: string; actor: Actor };

export interface DecisionRequest<R, A extends UnsignedDecision> {
  incidentId: string;
  kind: DecisionKind;
  update: UpdateDefinition<R, [A & { proof: DecisionProof }]>;
  user: ApiUser;
  /** The caller's decision id (API `decision_id`); a fresh one when absent. */
  decisionId?: string;
  /** Builds the update's argument from the resolved actor and decision id. */
  arg: (base: DecisionBase) => A;
}

/** 403 `step_up_required`: the decision needs a recent multi-factor sign-in that `user` lacks. */
export class StepUpRequired extends HTTPException {
  constructor(
    readonly rule: string,
    readonly problem: string,
  ) {
    const body: ErrorBody = { error: { code: 'step_up_required', message: `${rule}; ${problem}` } };
    super(403, { res: Response.json(body, { status: 403 }) });
  }
}

export async function submitDecision<R, A extends UnsignedDecision>(
  deps: DecideDeps,
  req: DecisionRequest<R, A>,
): Promise<{ decision_id: string; result: R }> {
  const id = req.incidentId;
  if (!(await incidentExists(deps.db, id))) throw apiError(404, 'not_found', `no incident ${id}`, 'id');
  const decisionId = req.decisionId ?? crypto.randomUUID();
  const actor = deps.people.apiActor(req.user);
  const arg = req.arg({ decisionId, actor });
  const actions =
    req.kind === 'approval' && arg.decision === 'approve' && arg.stepId
      ? await pendingApprovalActions(deps.temporal, id, arg.stepId)
      : [];
  const rule = stepUpRule(req.kind, arg.decision, actions);
  if (rule) {
    const problem = stepUpProblem(req.user.auth, deps.stepUp, (deps.now?.() ?? new Date()).getTime());
    if (problem) throw new StepUpRequired(rule, problem);
  }
  const signed = signDecision(deps.decisions, id, req.kind, arg);
  try {
    const updateId = req.decisionId
      ? `${req.update.name}:${actor.person}:${arg.stepId ?? '-'}:${req.decisionId}`
      : undefined;
    const result = await updateIncident(deps.temporal, id, req.update, signed, updateId);
    return { decision_id: decisionId, result };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const why = err.cause instanceof Error ? err.cause.message : err.message;
      // Not one of the step's approvers, or the two-person rule: forbidden, not a conflict.
      const type = (err.cause as { type?: string } | undefined)?.type;
      if (type === 'Unauthorized') throw apiError(403, 'decision_forbidden', why);
      throw apiError(409, 'decision_refused', why);
    }
    if (err instanceof WorkflowNotFoundError)
      throw apiError(409, 'incident_not_running', `incident ${id} is not running`);
    throw err;
  }
}
