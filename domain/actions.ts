/**
 * The catalog of connector actions a playbook may call: each action's input schema, whether it
 * changes anything, how its effect is verified, and its undo. One declaration serves the playbook
 * linter (names and params), the connectors (which implement exactly these) and the docs.
 * Pure, but workflows read domain/action-catalog.ts instead (no zod in the workflow bundle).
 */
import { z } from 'zod';
import { ACTION_CATALOG, type ActionMeta, type ActionName } from './action-catalog';
import { EvidenceKindParam } from './evidence-kinds';

/** A catalog entry with its name and the input schema the linter and connectors check. */
export interface ActionSpec<I extends z.ZodType = z.ZodType> extends ActionMeta {
  name: string;
  input: I;
}

const target = {
  agent_id: z.string().min(1).describe('Agent inventory id of the affected agent'),
  reason: z.string().max(500).optional(),
};

const toolNames = z
  .array(z.string().min(1).max(200))
  .min(1)
  .max(100)
  .describe('Tool names as the agent calls them (its MCP tool names)');

export const ACTIONS = {
  'credentials.revoke': {
    name: 'credentials.revoke',
    ...ACTION_CATALOG['credentials.revoke'],
    input: z.object({
      ...target,
      credential_id: z
        .string()
        .min(1)
        .optional()
        .describe("Credential reference; all of the agent's credentials when omitted"),
      provider: z.enum(['aws_iam', 'postgres', 'firebreak', 'http']).optional(),
    }),
  },
  'credentials.reactivate': {
    name: 'credentials.reactivate',
    ...ACTION_CATALOG['credentials.reactivate'],
    input: z.object({
      ...target,
      credential_id: z.string().min(1).optional(),
      provider: z.enum(['aws_iam', 'postgres', 'firebreak', 'http']).optional(),
    }),
  },
  'credentials.rotate': {
    name: 'credentials.rotate',
    ...ACTION_CATALOG['credentials.rotate'],
    input: z.object({
      ...target,
      credential_id: z.string().min(1).optional(),
      provider: z.enum(['aws_iam', 'postgres', 'firebreak', 'http']).optional(),
    }),
  },
  'agent.disable': {
    name: 'agent.disable',
    ...ACTION_CATALOG['agent.disable'],
    input: z.object({ ...target }),
  },
  'agent.enable': {
    name: 'agent.enable',
    ...ACTION_CATALOG['agent.enable'],
    input: z.object({ ...target }),
  },
  'agent.tools.block': {
    name: 'agent.tools.block',
    ...ACTION_CATALOG['agent.tools.block'],
    input: z.object({ ...target, tools: toolNames }),
  },
  'agent.tools.allow': {
    name: 'agent.tools.allow',
    ...ACTION_CATALOG['agent.tools.allow'],
    input: z.object({ ...target, tools: toolNames }),
  },
  'access.restrict': {
    name: 'access.restrict',
    ...ACTION_CATALOG['access.restrict'],
    input: z.object({
      ...target,
      resource: z.string().min(1).describe('What to restrict, e.g. postgres:<role> or a permission name'),
    }),
  },
  'access.restore': {
    name: 'access.restore',
    ...ACTION_CATALOG['access.restore'],
    input: z.object({ ...target, resource: z.string().min(1) }),
  },
  'evidence.collect': {
    name: 'evidence.collect',
    ...ACTION_CATALOG['evidence.collect'],
    input: z.object({
      ...target,
      kind: EvidenceKindParam,
      window_minutes: z.number().int().positive().max(10_080).default(60),
    }),
  },
  notify: {
    name: 'notify',
    ...ACTION_CATALOG['notify'],
    input: z.object({ message: z.string().min(1).max(3000), target: z.string().min(1).optional() }),
  },
} satisfies Record<string, ActionSpec>;

export { ACTION_NAMES, isActionName, type ActionName } from './action-catalog';

/** The result every action returns; `verified` is what a playbook may require before it proceeds. */
export interface ActionResult {
  action: ActionName;
  ok: boolean;
  verified: boolean;
  /** The same result returned again for a repeated (incident, step): nothing was done twice. */
  replayed: boolean;
  simulated: boolean;
  summary: string;
  output: Record<string, unknown>;
}

export type IncidentModeForAction = 'live' | 'drill';

/** What a drill scenario (or a test) scripts as an action's outcome instead of acting. */
export interface ScriptedOutcome {
  ok: boolean;
  verified?: boolean;
  summary?: string;
  output?: Record<string, unknown>;
  /** Drill only: the simulated connector errors (retryable) this many attempts first. */
  errors?: number;
}

export interface ActionRequest {
  incidentId: string;
  /** Idempotency key with incidentId: the same (incident, step) never acts twice. */
  stepId: string;
  action: ActionName;
  params: Record<string, unknown>;
  mode: IncidentModeForAction;
  actor: string;
  /** Drill mode only: the scenario's scripted outcome for this step. */
  scripted?: ScriptedOutcome;
}
