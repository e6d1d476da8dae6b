/**
 * executeAction: the single place where an incident's mode decides between acting and simulating.
 * In drill mode no connector is even looked up: the action is recorded with its exact inputs and
 * the scenario's scripted outcome is returned. In live mode the registered connector acts, then
 * verifies; a mutating action whose verification fails returns ok:false, verified:false. Either
 * way the (incident, step) row in action_runs makes it idempotent (a retry returns the first
 * result), a 'started' row left by a crash is first checked against the target instead of acting
 * again, and every run is written to the hash-chained audit log with its inputs redacted.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq } from 'drizzle-orm';
import { ACTION_OUTPUTS } from '../connectors/outputs';
import { redactRecord, redactString } from '../connectors/redact';
import {
  ConnectorError,
  type ActionHandler,
  type LiveConnectors,
  type Verification,
} from '../connectors/types';
import type { Db } from '../db/client';
import { actionRuns } from '../db/schema';
import { ACTIONS, type ActionRequest, type ActionResult } from '../domain/actions';
import { appendAudit } from './audit';
import { appendTimelineEvent, type Clock } from './incidents';

export type { ActionHandler, LiveConnectors } from '../connectors/types';

export interface ActionActivityDeps {
  db: Db;
  clock: Clock;
  /** Built lazily, only for live incidents: drill mode never constructs a live client. */
  liveConnectors: () => LiveConnectors;
}

export const redactParams = redactRecord;

type Outcome = Omit<ActionResult, 'action' | 'replayed'> & { detail?: string };

export function createActionActivities(deps: ActionActivityDeps) {
  const now = () => deps.clock.now().toISOString();
  const where = (req: ActionRequest) =>
    and(eq(actionRuns.incidentId, req.incidentId), eq(actionRuns.stepId, req.stepId));

  function finish(
    req: ActionRequest,
    params: Record<string, unknown>,
    o: Outcome,
    t0: number,
    target: string,
  ) {
    const { detail, ...rest } = o;
    const result: ActionResult = {
      action: req.action,
      replayed: false,
      ...rest,
      summary: redactString(o.summary),
    };
    result.output = redactRecord(result.output);
    deps.db
      .update(actionRuns)
      .set({ status: result.ok ? 'succeeded' : 'failed', result: { ...result }, finishedAt: now() })
      .where(where(req))
      .run();
    audit(req, params, target, outcomeOf(result), t0, {
      summary: result.summary,
      verified: result.verified,
      detail,
    });
    return result;
  }

  function audit(
    req: ActionRequest,
    params: Record<string, unknown>,
    target: string,
    outcome: string,
    t0: number,
    detail: Record<string, unknown>,
  ) {
    appendAudit(deps.db, {
      at: now(),
      actor: req.actor,
      action: req.action,
      target,
      incidentId: req.incidentId,
      stepId: req.stepId,
      inputs: { ...params, mode: req.mode },
      outcome,
      detail,
      durationMs: performance.now() - t0,
    });
  }

  async function runLive(
    req: ActionRequest,
    h: ActionHandler,
    params: Record<string, unknown>,
    crashed: boolean,
  ) {
    const spec = ACTIONS[req.action];
    // A 'started' row means an earlier attempt crashed after (maybe) acting: ask the target first.
    if (crashed && spec.mutates && h.verify) {
      const check = await h.verify(params, undefined);
      if (check.verified && check.output) {
        return outcome(
          check,
          check.output,
          `${req.action} was already in effect (interrupted attempt completed)`,
        );
      }
    }
    const ctx = { incidentId: req.incidentId, stepId: req.stepId, actor: req.actor };
    const done = await h.act(params, ctx);
    const shape = ACTION_OUTPUTS[req.action].safeParse(done.output);
    if (!shape.success) {
      const issue = shape.error.issues[0];
      return {
        ok: false,
        verified: false,
        simulated: false,
        summary: `${req.action} returned an invalid output (${issue?.path.join('.')}: ${issue?.message}): fix the connector`,
        output: {},
      } satisfies Outcome;
    }
    const check: Verification = h.verify ? await h.verify(params, done.output) : { verified: true };
    return outcome(check, done.output, done.summary);
  }

  function outcome(check: Verification, output: Record<string, unknown>, summary: string): Outcome {
    return {
      ok: check.verified,
      verified: check.verified,
      simulated: false,
      summary: check.verified
        ? summary
        : `${summary}; verification failed: ${check.detail ?? 'effect not observed'}`,
      output,
      detail: check.detail,
    };
  }

  return {
    async executeAction(req: ActionRequest): Promise<ActionResult> {
      const t0 = performance.now();
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
      const prior = deps.db.select().from(actionRuns).where(where(req)).get();
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
      const defaultTarget = typeof params.agent_id === 'string' ? `agent:${params.agent_id}` : 'incident';

      if (req.mode === 'drill') {
        const s = req.scripted ?? { ok: true };
        const attempt = s.errors ? Context.current().info.attempt : 0;
        if (s.errors && attempt <= s.errors) {
          const message = `[drill] scripted connector error on attempt ${attempt} of ${req.action}`;
          audit(req, params, defaultTarget, 'error', t0, { error: message });
          appendTimelineEvent(
            deps.db,
            {
              incidentId: req.incidentId,
              kind: 'action.error',
              actor: req.actor,
              message,
              data: { stepId: req.stepId, action: req.action, attempt },
              eventKey: `${req.incidentId}:action-error:${req.stepId}:${attempt}`,
            },
            now(),
          );
          throw ApplicationFailure.retryable(message, 'ConnectorFailure');
        }
        return finish(
          req,
          params,
          {
            ok: s.ok,
            verified: s.verified ?? s.ok,
            simulated: true,
            summary:
              s.summary ?? `[drill] would run ${req.action} with ${JSON.stringify(redactParams(params))}`,
            output: s.output ?? {},
          },
          t0,
          defaultTarget,
        );
      }

      const h = deps.liveConnectors()[req.action];
      if (!h) {
        audit(req, params, defaultTarget, 'not_configured', t0, {});
        throw ApplicationFailure.nonRetryable(
          `no live connector is configured for ${req.action}: configure one or run this playbook as a drill`,
          'ConnectorNotConfigured',
        );
      }
      const target = h.target?.(params) ?? defaultTarget;
      try {
        return finish(req, params, await runLive(req, h, params, prior?.status === 'started'), t0, target);
      } catch (err) {
        const message = redactString(err instanceof Error ? err.message : String(err));
        audit(req, params, target, 'error', t0, { error: message });
        if (err instanceof ConnectorError && !err.retryable) {
          throw ApplicationFailure.nonRetryable(message, 'ConnectorError');
        }
        throw ApplicationFailure.retryable(message, 'ConnectorFailure');
      }
    },
  };
}

function outcomeOf(r: ActionResult): string {
  if (r.simulated) return r.ok ? 'simulated' : 'simulated_failure';
  if (r.ok) return 'succeeded';
  return r.verified ? 'failed' : 'unverified';
}
