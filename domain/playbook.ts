/**
 * The playbook language, defined once: this zod schema validates YAML playbooks in the loader and
 * the linter, types the definition the incident workflow interprets (`Playbook`), and generates
 * playbook.schema.json for editors (`npm run cli -- playbook schema`). Pure: workflows import its
 * types. Semantics the schema cannot express (step references, reachability, action params) are
 * checked by lint.ts.
 */
import { z } from 'zod';
import { SEVERITIES } from './alert';
import { Duration } from './duration';
import { PHASES } from './phases';

export const StepId = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'step ids are snake_case (letters, digits, _), starting with a letter');

const Expr = z
  .string()
  .min(1)
  .describe("Expression, e.g. incident.severity == 'critical' && steps.disable.verified");

export const Retry = z
  .object({
    attempts: z.number().int().min(1).max(20).default(1),
    backoff: Duration.default('2s'),
  })
  .strict();

const common = {
  id: StepId,
  title: z.string().optional(),
  when: Expr.optional().describe('Run the step only when this expression is true (else skipped)'),
  retry: Retry.optional(),
  timeout: Duration.optional(),
  on_failure: z.enum(['continue', 'abort', 'compensate']).default('abort'),
};

export const Actor = z.object({ id: z.string().min(1), name: z.string().optional() });

export const Compensation = z.union([
  z.literal('none'),
  z.object({ action: z.string(), params: z.record(z.string(), z.unknown()).optional() }).strict(),
]);

export const ActionStep = z
  .object({
    ...common,
    kind: z.literal('action'),
    action: z.string().describe('A catalog action (domain/actions.ts)'),
    params: z.record(z.string(), z.unknown()).default({}),
    require_verified: z.boolean().default(false),
    compensation: Compensation.optional().describe("Default: the catalog's undo with the same params"),
    wait: z
      .boolean()
      .optional()
      .describe(
        'false: run it in the background and go on at once (only for actions that change nothing, e.g. a forensic snapshot with evidence.collect that must not delay containment); the playbook still waits for it before it ends',
      ),
  })
  .strict();

export const NotifyStep = z
  .object({
    ...common,
    kind: z.literal('notify'),
    message: z.string().min(1),
    target: z.string().optional(),
    wait: z
      .boolean()
      .optional()
      .describe(
        'false: send it in the background and go on at once (e.g. an announcement that must not delay containment); the playbook still waits for it before it ends',
      ),
  })
  .strict();

export const WaitStep = z.object({ ...common, kind: z.literal('wait'), duration: Duration }).strict();

export const AbortStep = z
  .object({ ...common, kind: z.literal('abort'), reason: z.string().min(1) })
  .strict();

export const ManualTaskStep = z
  .object({
    ...common,
    kind: z.literal('manual_task'),
    task: z.string().min(1),
    checklist: z.array(z.string()).optional(),
    assignee: z.string().optional(),
    deadline: Duration.optional().describe('After this, the task fails (see on_failure)'),
  })
  .strict();

export const Approvers = z
  .object({
    users: z.array(z.string()).default([]).describe('Slack user ids'),
    groups: z.array(z.string()).default([]).describe('Slack user group ids'),
    roles: z.array(z.string()).default([]),
  })
  .strict();

export const TimeoutOutcome = z.enum(['approve', 'reject', 'abort']);

const ApprovalFields = z
  .object({
    ...common,
    kind: z.literal('approval'),
    prompt: z.string().min(1),
    approvers: Approvers,
    min_approvals: z.number().int().min(1).default(1),
    requester: z
      .string()
      .optional()
      .describe('Who asks (template); may not approve. Default: incident.requested_by'),
    timeout: Duration.optional(),
    on_timeout: z.enum(['escalate', 'approve', 'reject', 'abort']).default('reject'),
    escalation: z
      .object({ target: z.string().min(1), timeout: Duration, on_timeout: TimeoutOutcome.default('reject') })
      .strict()
      .optional(),
    on_reject: z.enum(['continue', 'abort']).default('continue'),
  })
  .strict();

const ConditionFields = z.object({ ...common, kind: z.literal('condition'), if: Expr }).strict();
const ParallelFields = z
  .object({
    ...common,
    kind: z.literal('parallel'),
    wait: z
      .boolean()
      .optional()
      .describe(
        'false: run the branches in the background and go on at once (only when every step in it changes nothing, e.g. a forensic snapshot before containment); the playbook still waits for it before it ends',
      ),
  })
  .strict();

const steps = () => z.array(z.lazy((): z.ZodType<Step> => Step));

export const ApprovalStep = ApprovalFields.extend({
  steps: steps().optional().describe('Run only once approved'),
});
export const ConditionStep = ConditionFields.extend({
  steps: steps().min(1).describe('Run when `if` is true'),
  else: steps().optional().describe('Run when `if` is false'),
});
export const ParallelStep = ParallelFields.extend({ steps: steps().min(1) });

export type ActionStep = z.infer<typeof ActionStep>;
export type ApprovalStep = z.infer<typeof ApprovalFields> & { steps?: Step[] };
export type ManualTaskStep = z.infer<typeof ManualTaskStep>;
export type Step =
  | ActionStep
  | z.infer<typeof NotifyStep>
  | z.infer<typeof WaitStep>
  | z.infer<typeof AbortStep>
  | ManualTaskStep
  | ApprovalStep
  | (z.infer<typeof ConditionFields> & { steps: Step[]; else?: Step[] })
  | (z.infer<typeof ParallelFields> & { steps: Step[] });
export type StepKind = Step['kind'];

/** Nested step lists make the type recursive, so it is spelled out above and annotated here. */
export const Step: z.ZodType<Step> = z
  .lazy(() =>
    z.discriminatedUnion('kind', [
      ActionStep,
      NotifyStep,
      WaitStep,
      AbortStep,
      ManualTaskStep,
      ApprovalStep,
      ConditionStep,
      ParallelStep,
    ]),
  )
  .meta({ id: 'Step', description: 'One playbook step; `kind` says which' });

export const Match = z
  .object({
    severities: z.array(z.enum(SEVERITIES)).optional(),
    sources: z.array(z.string()).optional(),
    labels: z.record(z.string(), z.string()).optional().describe('All must equal the alert labels'),
    title_contains: z.array(z.string()).optional().describe('Any, case-insensitive'),
  })
  .strict();

export const Input = z
  .object({
    type: z.enum(['string', 'number', 'boolean']).default('string'),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    description: z.string().optional(),
  })
  .strict();

const phaseShape = Object.fromEntries(PHASES.map((p) => [p, z.array(Step).optional()])) as {
  [P in (typeof PHASES)[number]]: z.ZodOptional<z.ZodArray<z.ZodType<Step>>>;
};

/** Phases may be omitted but never reordered: checked on the raw keys, since parsing reorders. */
export const Phases = z.preprocess((raw, ctx) => {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const order = Object.keys(raw)
      .map((k) => PHASES.indexOf(k as (typeof PHASES)[number]))
      .filter((i) => i >= 0);
    for (let i = 1; i < order.length; i++) {
      if (order[i]! < order[i - 1]!) {
        ctx.addIssue({
          code: 'custom',
          message: `phases must appear in the order ${PHASES.join(', ')}`,
          path: [PHASES[order[i]!]!],
          input: raw,
        });
      }
    }
  }
  return raw;
}, z.object(phaseShape).strict());

export const Playbook = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'playbook ids are kebab-case'),
    version: z.number().int().min(1),
    title: z.string().min(1),
    description: z.string().optional(),
    match: Match.default({}),
    inputs: z.record(z.string(), Input).default({}),
    phases: Phases,
  })
  .strict();

export type Playbook = z.infer<typeof Playbook>;

/** A validated playbook pinned into an incident workflow's input at start (see loader.ts). */
export interface PinnedPlaybook {
  id: string;
  version: number;
  /** sha256 of the YAML source the definition was parsed from. */
  hash: string;
  definition: Playbook;
}

export function playbookJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(Playbook, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
