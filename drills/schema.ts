/**
 * The drill scenario (a tabletop exercise, `drills/*.yaml`): which playbook to rehearse, the
 * alert(s) that open the drill incident, the timed injects of the MSEL (a later alert, a message to
 * responders, a responder action recorded on the timeline, a scripted connector outcome), the
 * responder decisions `--auto` plays, and the expectations the drill is scored on. Offsets and
 * deadlines are in scenario time; `--speed N` compresses them, scoring expands them back.
 */
import { z } from 'zod';
import { Duration } from '../domain/duration';

const Id = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'letters, digits, ".", "_" or "-"');

export const DrillAlert = z.strictObject({
  title: z.string().min(1),
  severity: z.enum(['critical', 'high', 'medium', 'low', 'info']).default('high'),
  source: z.string().default('drill'),
  agent_id: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  details: z.record(z.string(), z.unknown()).default({}),
});
export type DrillAlert = z.infer<typeof DrillAlert>;

export const ScriptedOutcome = z.strictObject({
  ok: z.boolean().default(true),
  verified: z.boolean().optional(),
  summary: z.string().optional(),
  output: z.record(z.string(), z.unknown()).optional(),
  /** Connector errors before the outcome: the activity's retry policy retries them. */
  errors: z.number().int().min(0).max(5).optional(),
});

const InjectBase = { at: Duration, id: Id.optional() };
export const Inject = z.discriminatedUnion('type', [
  z.strictObject({ ...InjectBase, type: z.literal('alert'), alert: DrillAlert }),
  z.strictObject({ ...InjectBase, type: z.literal('message'), text: z.string().min(1) }),
  z.strictObject({
    ...InjectBase,
    type: z.literal('event'),
    kind: z.string().regex(/^[a-z_]+(\.[a-z_]+)*$/, 'dotted lower-case kind, e.g. commander.assigned'),
    actor: z.string().default('facilitator'),
    message: z.string().default(''),
  }),
  z.strictObject({ ...InjectBase, type: z.literal('outcome'), step: Id, outcome: ScriptedOutcome }),
]);
export type Inject = z.infer<typeof Inject>;

const Target = z.string().regex(/^(step|phase):[a-z0-9_.-]+$/i, 'step:<id> or phase:<phase>');
const ExpBase = { id: Id, description: z.string().optional() };
export const Expectation = z.discriminatedUnion('type', [
  z.strictObject({ ...ExpBase, type: z.literal('approved_within'), step: Id, within: Duration }),
  z.strictObject({ ...ExpBase, type: z.literal('event_within'), kind: z.string(), within: Duration }),
  z.strictObject({ ...ExpBase, type: z.literal('before'), first: Target, then: Target }),
  z.strictObject({ ...ExpBase, type: z.literal('retried'), step: Id }),
  z.strictObject({ ...ExpBase, type: z.literal('step_status'), step: Id, status: z.string() }),
  z.strictObject({ ...ExpBase, type: z.literal('outcome'), outcome: z.enum(['completed', 'aborted']) }),
  z.strictObject({ ...ExpBase, type: z.literal('facilitator'), question: z.string() }),
]);
export type Expectation = z.infer<typeof Expectation>;

export const Responder = z.strictObject({
  id: z.string().min(1),
  name: z.string().optional(),
  roles: z.array(z.string()).default([]),
  groups: z.array(z.string()).default([]),
});
export type Responder = z.infer<typeof Responder>;

export const ScriptedDecision = z.strictObject({
  step: Id,
  decision: z.enum(['approve', 'reject', 'complete']),
  /** Responder ids (from `responders`); an approval needing k approvals takes k of them. */
  by: z.array(z.string()).min(1),
  after: Duration.default('0s'),
});
export type ScriptedDecision = z.infer<typeof ScriptedDecision>;

export const DrillScenario = z.strictObject({
  id: Id,
  title: z.string().min(1),
  description: z.string().optional(),
  playbook: Id,
  alerts: z.array(DrillAlert).min(1),
  injects: z.array(Inject).default([]),
  responders: z.array(Responder).default([]),
  decisions: z.array(ScriptedDecision).default([]),
  /** Unlisted approvals and tasks under --auto: approved/completed by the first matching responder. */
  auto_default: z.enum(['approve', 'reject', 'none']).default('approve'),
  expectations: z.array(Expectation).min(1),
  /** Scenario time after which an unfinished drill stops and is scored. */
  time_limit: Duration.default('8h'),
});
export type DrillScenario = z.infer<typeof DrillScenario>;
