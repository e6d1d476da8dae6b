/**
 * The write side of the incident API: responders' decisions, as signed API calls (the fallback
 * when Slack is down, and what the CLI uses). The caller's API user is the actor, resolved here
 * from the config file (under their Slack id when linked, with one `person` for both, so a person
 * is one approver on every surface), and the decision is signed with Firebreak's decision key.
 * Each becomes a workflow update that verifies the signature and enforces who may decide,
 * deadlines and the two-person rule; an unauthorized one is 403 with the workflow's reason.
 * `decision_id` (or a generated one), scoped to the person and step, is the update id: a retried
 * request never decides twice, and nobody can claim another person's decision id.
 */
import type { UpdateDefinition } from '@temporalio/client';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';
import type { DecisionKind, UnsignedDecision } from '../../domain/decision-proof';
import type { DecisionProof } from '../../domain/incident';
import type { PeopleDirectory } from '../../domain/people';
import { DEFAULT_STEP_UP_POLICY, type StepUpPolicy } from '../../domain/step-up';
import {
  abortIncident,
  addNote,
  attachPlaybook,
  closeIncident,
  completeTask,
  decideApproval,
  escalate,
  requestRelease,
} from '../../workflows/messages';
import type { ApiDeps } from '../app';
import { requireScope, type ApiEnv } from '../auth';
import { submitDecision, type DecisionBase } from '../decide';
import { apiError, refuseNulCharacters, zodErrorBody } from '../errors';

const DecisionId = z.string().min(1).max(200).optional();
export const ApprovalBody = z.object({
  decision: z.enum(['approve', 'reject']),
  reason: z.string().max(2000).optional(),
  decision_id: DecisionId,
});
export const TaskBody = z.object({ note: z.string().max(2000).optional(), decision_id: DecisionId });
export const NoteBody = z.object({ text: z.string().min(1).max(4000), decision_id: DecisionId });
export const ReasonBody = z.object({
  reason: z.string().min(1).max(2000),
  target: z.string().max(200).optional(),
  decision_id: DecisionId,
});

export const AttachBody = z.object({
  playbook: z
    .string()
    .min(1)
    .max(200)
    .describe('Id of a playbook this install loads (e.g. agent-credential-leak)'),
  reason: z.string().max(2000).optional(),
  decision_id: DecisionId,
});
export const ReleaseBody = z.object({ reason: z.string().min(1).max(2000), decision_id: DecisionId });

async function readJson(c: Context<ApiEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw apiError(400, 'invalid_json', 'body is not valid JSON', '(body)');
  }
}

export function decisionRoutes(deps: ApiDeps & { people: PeopleDirectory; stepUp?: StepUpPolicy }) {
  const app = new Hono<ApiEnv>();
  // Per route, never app.use('*'): routers share the /v1/incidents prefix, and a wildcard
  // middleware here would also guard the read routes mounted beside this router.
  const respond = requireScope('respond');
  const decideDeps = { ...deps, stepUp: deps.stepUp ?? DEFAULT_STEP_UP_POLICY };

  /** Validates the body, then hands the decision to the one decision path (api/decide.ts). */
  const decide =
    <S extends z.ZodType, R, A extends UnsignedDecision>(
      schema: S,
      kind: DecisionKind,
      update: UpdateDefinition<R, [A & { proof: DecisionProof }]>,
      argOf: (b: z.infer<S>, c: Context<ApiEnv>, base: DecisionBase) => A,
    ) =>
    async (c: Context<ApiEnv>) => {
      const parsed = schema.safeParse(await readJson(c));
      if (!parsed.success) return c.json(zodErrorBody(parsed.error), 400);
      refuseNulCharacters(parsed.data);
      const b: z.infer<S> = parsed.data;
      const given = (b as { decision_id?: string }).decision_id;
      const out = await submitDecision(decideDeps, {
        incidentId: c.req.param('id')!,
        kind,
        update,
        user: c.var.user,
        ...(given ? { decisionId: given } : {}),
        arg: (base) => argOf(b, c, base),
      });
      return c.json(out, 200);
    };

  app.post(
    '/:id/approvals/:stepId',
    respond,
    decide(ApprovalBody, 'approval', decideApproval, (b, c, base) => ({
      ...base,
      stepId: c.req.param('stepId')!,
      decision: b.decision,
      ...(b.reason ? { reason: b.reason } : {}),
    })),
  );
  app.post(
    '/:id/tasks/:stepId/done',
    respond,
    decide(TaskBody, 'task', completeTask, (b, c, base) => ({
      ...base,
      stepId: c.req.param('stepId')!,
      ...(b.note ? { note: b.note } : {}),
    })),
  );
  app.post(
    '/:id/notes',
    respond,
    decide(NoteBody, 'note', addNote, (b, _c, base) => ({ ...base, text: b.text })),
  );
  app.post(
    '/:id/abort',
    respond,
    decide(ReasonBody, 'abort', abortIncident, (b, _c, base) => ({ ...base, reason: b.reason })),
  );
  app.post(
    '/:id/playbook',
    respond,
    decide(AttachBody, 'attach', attachPlaybook, (b, _c, base) => {
      const playbook = deps.outbox.playbook(b.playbook);
      if (!playbook) throw apiError(404, 'unknown_playbook', `no playbook ${b.playbook}`, 'playbook');
      return { ...base, playbook, ...(b.reason ? { reason: b.reason } : {}) };
    }),
  );
  app.post(
    '/:id/release',
    respond,
    decide(ReleaseBody, 'release_request', requestRelease, (b, _c, base) => ({
      ...base,
      reason: b.reason,
    })),
  );
  app.post(
    '/:id/close',
    respond,
    decide(ReasonBody, 'close', closeIncident, (b, _c, base) => ({ ...base, reason: b.reason })),
  );
  app.post(
    '/:id/escalate',
    respond,
    decide(ReasonBody, 'escalate', escalate, (b, _c, base) => ({
      ...base,
      reason: b.reason,
      ...(b.target ? { target: b.target } : {}),
    })),
  );
  return app;
}
