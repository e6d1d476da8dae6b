/**
 * executeAction: the single place where an incident's mode decides between acting and simulating.
 * In drill mode no connector is even looked up: the action is recorded with its exact inputs and
 * the scenario's scripted outcome is returned. In live mode the registered connector acts,
 * then verifies. Either way the (incident, step) row in action_runs makes it idempotent: a retry
 * returns the first result and never acts twice.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { actionRuns } from '../db/schema';
import { ACTIONS, type ActionName, type ActionRequest, type ActionResult } from '../domain/actions';
import type { Clock } from './incidents';

/** What a live connector implements for one action. */
export interface ActionHandler {
  /** Performs the change (or read). Must be safe to call again for the same target. */
  act(
    params: Record<string, unknown>,
    ctx: { incidentId: string; stepId: string; actor: string },
  ): Promise<{
    summary: string;
    output: Record<string, unknown>;
  }>;
  /** Reads the effect back; false means the change did not take. */
  verify?(params: Record<string, unknown>, output: Record<string, unknown>): Promise<boolean>;
}

export type LiveConnectors = Partial<Record<ActionName, ActionHandler>>;

export interface ActionActivityDeps {
  db: Db;
  clock: Clock;
  /** Built lazily, only for live incidents: drill mode never constructs a live client. */
  liveConnectors: () => LiveConnectors;
}

const SECRET_KEYS = /secret|token|password|key$|credential_value|api_key/i;

export function redactParams(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [
      k,
      SECRET_KEYS.test(k) && k !== 'credential_id' ? '[redacted]' : v,
    ]),
  );
}

export function createActionActivities(deps: ActionActivityDeps) {
  const now = () => deps.clock.now().toISOString();

  function previous(req: ActionRequest) {
    return deps.db
      .select()
      .from(actionRuns)
      .where(and(eq(actionRuns.incidentId, req.incidentId), eq(actionRuns.stepId, req.stepId)))
      .get();
  }

  function finish(req: ActionRequest, result: ActionResult): ActionResult {
    deps.db
      .update(actionRuns)
      .set({
        status: result.ok ? 'succeeded' : 'failed',
        result: result as unknown as Record<string, unknown>,
        finishedAt: now(),
      })
      .where(and(eq(actionRuns.incidentId, req.incidentId), eq(actionRuns.stepId, req.stepId)))
      .run();
    return result;
  }

  return {
    async executeAction(req: ActionRequest): Promise<ActionResult> {
      const spec = ACTIONS[req.action];
      if (!spec) throw ApplicationFailure.nonRetryable(`unknown action ${req.action}`, 'UnknownAction');
      const parsed = spec.input.safeParse(req.params);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw ApplicationFailure.nonRetryable(
          `invalid params for ${req.action}: ${issue?.path.join('.')}: ${issue?.message}`,
          'InvalidActionParams',
        );
      }
      const params = parsed.data as Record<string, unknown>;
      const prior = previous(req);
      if (prior?.status === 'succeeded' || prior?.status === 'failed') {
        return { ...(prior.result as unknown as ActionResult), replayed: true };
      }
      if (!prior) {
        deps.db
          .insert(actionRuns)
          .values({
            incidentId: req.incidentId,
            stepId: req.stepId,
            action: req.action,
            mode: req.mode,
            status: 'started',
            params: redactParams(params),
            startedAt: now(),
          })
          .onConflictDoNothing()
          .run();
      }

      if (req.mode === 'drill') {
        const s = req.scripted ?? { ok: true };
        return finish(req, {
          action: req.action,
          ok: s.ok,
          verified: s.verified ?? s.ok,
          replayed: false,
          simulated: true,
          summary:
            s.summary ?? `[drill] would run ${req.action} with ${JSON.stringify(redactParams(params))}`,
          output: s.output ?? {},
        });
      }

      const handler = deps.liveConnectors()[req.action];
      if (!handler) {
        throw ApplicationFailure.nonRetryable(
          `no live connector is configured for ${req.action}: configure one or run this playbook as a drill`,
          'ConnectorNotConfigured',
        );
      }
      // A prior 'started' row means we crashed mid-action: handlers are idempotent for the same
      // target, and verification below tells whether the first attempt already took effect.
      const ctx = { incidentId: req.incidentId, stepId: req.stepId, actor: req.actor };
      const done = await handler.act(params, ctx);
      const verified = handler.verify ? await handler.verify(params, done.output) : true;
      return finish(req, {
        action: req.action,
        ok: true,
        verified,
        replayed: false,
        simulated: false,
        summary: done.summary,
        output: done.output,
      });
    },
  };
}
