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
import { ACTION_OUTPUTS } from '../connectors/outputs';
import { redactRecord, redactString } from '../connectors/redact';
import {
  ConnectorError,
  type ActionHandler,
  type LiveConnectors,
  type Verification,
} from '../connectors/types';
import { beginActionRun, finishActionRun } from '../db/action-runs';
import type { Db } from '../db/client';
import { appendTimelineEvent } from '../db/timeline';
import { ACTIONS, type ActionRequest, type ActionResult } from '../domain/actions';
import type { Clock } from '../domain/clock';
import { appendAudit } from './audit';

export type { ActionHandler, LiveConnectors } from '../connectors/types';

export interface ActionActivityDeps {
  db: Db;
  clock: Clock;
  /** Built lazily, only for live incidents: drill mode never constructs a live client. */
  liveConnectors: () => LiveConnectors;
}

export const redactParams = redactRecord;

type Outcome = Omit<ActionResult, 'action' | 'replayed'> & { detail?: string };

/** One attempt at one action: its validated params, audit target and start time. */
interface Attempt {
  req: ActionRequest;
  params: Record<string, unknown>;
  target: string;
  t0: number;
}

/** The action's params, checked against its input schema; bad input is never retried. */
function validParams(req: ActionRequest): Record<string, unknown> {
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
  return parsed.data as Record<string, unknown>;
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

/** Acts through the live connector, then verifies; a crashed earlier attempt is checked first. */
async function runLive(a: Attempt, h: ActionHandler, crashed: boolean): Promise<Outcome> {
  const { req, params } = a;
  // A 'started' row means an earlier attempt crashed after (maybe) acting: ask the target first.
  if (crashed && ACTIONS[req.action].mutates && h.verify) {
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
    };
  }
  const check: Verification = h.verify ? await h.verify(params, done.output) : { verified: true };
  return outcome(check, done.output, done.summary);
}

const nowOf = (deps: ActionActivityDeps) => deps.clock.now().toISOString();

async function audit(
  deps: ActionActivityDeps,
  a: Attempt,
  target: string,
  outcome: string,
  detail: Record<string, unknown>,
  alongside?: (tx: Db) => Promise<void>,
) {
  await appendAudit(
    deps.db,
    {
      at: nowOf(deps),
      actor: a.req.actor,
      action: a.req.action,
      target,
      incidentId: a.req.incidentId,
      stepId: a.req.stepId,
      inputs: { ...a.params, mode: a.req.mode },
      outcome,
      detail,
      durationMs: performance.now() - a.t0,
    },
    alongside,
  );
}

/** Stores the result (so a retry replays it) and audits it, in one transaction. */
async function finish(
  deps: ActionActivityDeps,
  a: Attempt,
  o: Outcome,
  target: string,
): Promise<ActionResult> {
  const { detail, ...rest } = o;
  const result: ActionResult = {
    action: a.req.action,
    replayed: false,
    ...rest,
    summary: redactString(o.summary),
  };
  result.output = redactRecord(result.output);
  const stored = { ok: result.ok, result: { ...result }, at: nowOf(deps) };
  await audit(
    deps,
    a,
    target,
    outcomeOf(result),
    { summary: result.summary, verified: result.verified, detail },
    (tx) => finishActionRun(tx, a.req.incidentId, a.req.stepId, stored),
  );
  return result;
}

/** Drill mode: the scenario's scripted outcome, after its scripted connector errors if any. */
async function simulate(deps: ActionActivityDeps, a: Attempt): Promise<ActionResult> {
  const { req, params } = a;
  const s = req.scripted ?? { ok: true };
  const attempt = s.errors ? Context.current().info.attempt : 0;
  if (s.errors && attempt <= s.errors) {
    const message = `[drill] scripted connector error on attempt ${attempt} of ${req.action}`;
    await audit(deps, a, a.target, 'error', { error: message });
    await appendTimelineEvent(
      deps.db,
      {
        incidentId: req.incidentId,
        kind: 'action.error',
        actor: req.actor,
        message,
        data: { stepId: req.stepId, action: req.action, attempt },
        eventKey: `${req.incidentId}:action-error:${req.stepId}:${attempt}`,
      },
      nowOf(deps),
    );
    throw ApplicationFailure.retryable(message, 'ConnectorFailure');
  }
  const summary = s.summary ?? `[drill] would run ${req.action} with ${JSON.stringify(redactParams(params))}`;
  return finish(
    deps,
    a,
    { ok: s.ok, verified: s.verified ?? s.ok, simulated: true, summary, output: s.output ?? {} },
    a.target,
  );
}

/** Live mode: the registered connector acts and verifies; its errors become typed failures. */
async function act(deps: ActionActivityDeps, a: Attempt, crashed: boolean): Promise<ActionResult> {
  const h = deps.liveConnectors()[a.req.action];
  if (!h) {
    await audit(deps, a, a.target, 'not_configured', {});
    throw ApplicationFailure.nonRetryable(
      `no live connector is configured for ${a.req.action}: configure one or run this playbook as a drill`,
      'ConnectorNotConfigured',
    );
  }
  const target = h.target?.(a.params) ?? a.target;
  try {
    return await finish(deps, a, await runLive(a, h, crashed), target);
  } catch (err) {
    const message = redactString(err instanceof Error ? err.message : String(err));
    await audit(deps, a, target, 'error', { error: message });
    if (err instanceof ConnectorError && !err.retryable) {
      throw ApplicationFailure.nonRetryable(message, 'ConnectorError');
    }
    throw ApplicationFailure.retryable(message, 'ConnectorFailure');
  }
}

export function createActionActivities(deps: ActionActivityDeps) {
  return {
    async executeAction(req: ActionRequest): Promise<ActionResult> {
      const t0 = performance.now();
      const params = validParams(req);
      const prior = await beginActionRun(deps.db, {
        incidentId: req.incidentId,
        stepId: req.stepId,
        action: req.action,
        mode: req.mode,
        params: redactParams(params),
        startedAt: nowOf(deps),
      });
      if (prior?.status === 'succeeded' || prior?.status === 'failed') {
        return { ...(prior.result as unknown as ActionResult), replayed: true };
      }
      const target = typeof params.agent_id === 'string' ? `agent:${params.agent_id}` : 'incident';
      const a: Attempt = { req, params, target, t0 };
      return req.mode === 'drill' ? simulate(deps, a) : act(deps, a, prior?.status === 'started');
    },
  };
}

function outcomeOf(r: ActionResult): string {
  if (r.simulated) return r.ok ? 'simulated' : 'simulated_failure';
  if (r.ok) return 'succeeded';
  return r.verified ? 'failed' : 'unverified';
}
