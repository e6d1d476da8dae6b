/**
 * What every Slack listener shares: its dependencies, who the clicking user is as an incident
 * actor (resolved here: roles and groups from SLACK_USER_ROLES, linked to their config user, never
 * from the payload), the signing of every decision sent to a workflow, how a rejected workflow
 * update reads to a person, and the timeline event for things done outside the workflow.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Logger } from 'pino';
import type { SlackConfig } from '../app/config';
import type { Db } from '../db/client';
import { appendAuditedTimelineEvent, type TimelineEvent } from '../db/timeline';
import {
  signDecision,
  type DecisionKind,
  type DecisionSigner,
  type UnsignedDecision,
} from '../domain/decision-proof';
import type { Actor, DecisionProof } from '../domain/incident';
import type { PeopleDirectory } from '../domain/people';
import { isRefusalType, type RefusalType } from '../domain/refusals';
import type { Outbox } from '../intake/outbox';
import type { TemporalHandle } from '../temporal/client';

export interface SlackDeps {
  config: SlackConfig;
  db: Db;
  temporal: TemporalHandle;
  outbox: Outbox;
  log: Logger;
  now?: () => Date;
  /** Signs every decision sent to an incident workflow (the `decision` key). */
  decisions: DecisionSigner;
  /** Who Slack users are as deciders (SLACK_USER_ROLES, linked config users). */
  people: PeopleDirectory;
}

export function nowIso(deps: Pick<SlackDeps, 'now'>): string {
  return (deps.now?.() ?? new Date()).toISOString();
}

export function actorFor(deps: SlackDeps, user: { id: string; name?: string; username?: string }): Actor {
  return deps.people.slackActor(user);
}

/** The update argument with Firebreak's signature (the workflow refuses it without). */
export function signed<A extends UnsignedDecision>(
  deps: SlackDeps,
  incidentId: string,
  kind: DecisionKind,
  arg: A,
): A & { proof: DecisionProof } {
  return signDecision(deps.decisions, incidentId, kind, arg);
}

export type UpdateRefusal = 'unauthorized' | 'already' | 'expired' | 'closed' | 'unsupported' | 'invalid';

function messageChain(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e instanceof Error; i++) {
    parts.push(e.message);
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join(': ');
}

const REFUSAL_KINDS: Record<RefusalType, UpdateRefusal> = {
  Unauthorized: 'unauthorized',
  AlreadyDecided: 'already',
  Expired: 'expired',
  Invalid: 'invalid',
};

/** Why the workflow refused an update, from its validator's failure; undefined if not a refusal. */
export function refusalOf(err: unknown): { kind: UpdateRefusal; detail: string } | undefined {
  if (err instanceof WorkflowNotFoundError)
    return { kind: 'closed', detail: 'the incident workflow is not running' };
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const detail = messageChain(err.cause ?? err);
  const type = (err.cause as { type?: string } | undefined)?.type;
  // The validators' typed refusals (domain/refusals.ts) decide; the message is never parsed for
  // them, since it carries step ids a playbook author chose.
  if (isRefusalType(type)) return { kind: REFUSAL_KINDS[type], detail };
  const text = `${type ?? ''} ${detail}`;
  if (/no registered handler|unknown update/i.test(text)) return { kind: 'unsupported', detail };
  if (
    /unauthori[sz]ed|not allowed|not authori[sz]ed|not an approver|two-person rule|forbidden|permission/i.test(
      text,
    )
  )
    return { kind: 'unauthorized', detail };
  if (/\b(already|duplicate)\b/i.test(text)) return { kind: 'already', detail };
  // A step no longer waiting was decided (or timed out) before this click arrived.
  const notWaiting = /not waiting for a decision \(status: (\w+)\)/i.exec(text);
  if (notWaiting) return { kind: notWaiting[1] === 'failed' ? 'expired' : 'already', detail };
  if (/\b(expired|deadline|too late|timed out|no longer pending|not pending|not waiting)\b/i.test(text))
    return { kind: 'expired', detail };
  if (/\b(closed|aborted|not running)\b/i.test(text)) return { kind: 'closed', detail };
  return { kind: 'invalid', detail };
}

export interface SlackAuditEvent {
  incidentId: string;
  kind: string;
  actor: Actor;
  message: string;
  key: string;
  data?: Record<string, unknown>;
}

/** The timeline event for something a person did in Slack, keyed so a retry adds nothing. */
export function slackTimelineEvent(e: SlackAuditEvent): TimelineEvent {
  return {
    incidentId: e.incidentId,
    kind: e.kind,
    actor: e.actor.name ? `${e.actor.name} (${e.actor.id})` : e.actor.id,
    message: e.message,
    data: { via: 'slack', actorId: e.actor.id, ...e.data },
    eventKey: `${e.incidentId}:${e.kind}:${e.key}`,
  };
}

/**
 * Records an attempt refused in Slack before any workflow saw it (e.g. `/incident role` by
 * someone who may not assign roles): on the timeline and in the audit log, with its actor.
 */
export async function auditRefusal(deps: SlackDeps, e: SlackAuditEvent): Promise<void> {
  const at = nowIso(deps);
  await appendAuditedTimelineEvent(
    deps.db,
    slackTimelineEvent(e),
    {
      at,
      actor: e.actor.id,
      action: e.kind,
      target: `incident:${e.incidentId}`,
      incidentId: e.incidentId,
      stepId: null,
      inputs: { via: 'slack', ...e.data },
      outcome: 'refused',
      detail: { message: e.message },
      durationMs: 0,
    },
    at,
  );
}
