/**
 * The catalog of connector actions a playbook may call: each action's input schema, whether it
 * changes anything, how its effect is verified, and its undo. One declaration serves the playbook
 * linter (names and params), the connectors (which implement exactly these) and the docs.
 * Pure: importable by workflows.
 */
import { z } from 'zod';

export interface ActionSpec<I extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  input: I;
  /** false for read-only actions (evidence, notify): they never need idempotency guards. */
  mutates: boolean;
  /** How the connector proves the effect after acting (recorded as `verified`). */
  verification: string;
  /** The action that undoes this one, used as the default compensation. */
  undo?: string;
}

const target = {
  agent_id: z.string().min(1).describe('Agent inventory id of the affected agent'),
  reason: z.string().max(500).optional(),
};

export const ACTIONS = {
  'credentials.revoke': {
    name: 'credentials.revoke',
    description: "Revoke (deactivate) an agent's credential at its provider.",
    input: z.object({
      ...target,
      credential_id: z
        .string()
        .min(1)
        .optional()
        .describe("Credential reference; all of the agent's credentials when omitted"),
      provider: z.enum(['aws_iam', 'postgres', 'firebreak', 'http']).optional(),
    }),
    mutates: true,
    verification: 'Reads the credential back from the provider and checks it is inactive.',
    undo: 'credentials.reactivate',
  },
  'credentials.reactivate': {
    name: 'credentials.reactivate',
    description: 'Re-activate a credential that credentials.revoke deactivated (compensation).',
    input: z.object({
      ...target,
      credential_id: z.string().min(1).optional(),
      provider: z.enum(['aws_iam', 'postgres', 'firebreak', 'http']).optional(),
    }),
    mutates: true,
    verification: 'Reads the credential back and checks it is active.',
  },
  'credentials.rotate': {
    name: 'credentials.rotate',
    description:
      'Issue a new credential for the agent and deactivate the old one (where the provider supports it).',
    input: z.object({
      ...target,
      credential_id: z.string().min(1).optional(),
      provider: z.enum(['aws_iam', 'postgres', 'firebreak', 'http']).optional(),
    }),
    mutates: true,
    verification: 'Checks the old credential is inactive and the new one exists.',
  },
  'agent.disable': {
    name: 'agent.disable',
    description: "Flip the agent's kill switch so its runtime and AI gateways stop it.",
    input: z.object({ ...target }),
    mutates: true,
    verification: "Reads the agent's signed status endpoint back and checks it says disabled.",
    undo: 'agent.enable',
  },
  'agent.enable': {
    name: 'agent.enable',
    description: 'Re-enable a disabled agent, optionally with reduced permissions.',
    input: z.object({ ...target, least_privilege: z.boolean().default(false) }),
    mutates: true,
    verification: "Reads the agent's status endpoint back and checks it says enabled.",
    undo: 'agent.disable',
  },
  'access.restrict': {
    name: 'access.restrict',
    description: 'Remove a role or permission from the agent (e.g. disable its database role).',
    input: z.object({
      ...target,
      resource: z.string().min(1).describe('What to restrict, e.g. postgres:<role> or a permission name'),
    }),
    mutates: true,
    verification: 'Attempts the restricted access and checks it now fails.',
    undo: 'access.restore',
  },
  'access.restore': {
    name: 'access.restore',
    description: 'Restore access removed by access.restrict (compensation).',
    input: z.object({ ...target, resource: z.string().min(1) }),
    mutates: true,
    verification: 'Attempts the access and checks it works again.',
  },
  'evidence.collect': {
    name: 'evidence.collect',
    description: 'Collect an artifact (logs, auth attempts, config snapshot) into the evidence store.',
    input: z.object({
      ...target,
      kind: z.enum([
        'access_logs',
        'auth_attempts',
        'infra_changes',
        'data_changes',
        'agent_config',
        'traces',
        'alerts',
      ]),
      window_minutes: z.number().int().positive().max(10_080).default(60),
    }),
    mutates: false,
    verification: 'Re-hashes the stored artifact and checks it matches the custody record.',
  },
  notify: {
    name: 'notify',
    description: 'Send a notification to the incident channel or a named target.',
    input: z.object({ message: z.string().min(1).max(3000), target: z.string().min(1).optional() }),
    mutates: false,
    verification: 'The provider acknowledged the message.',
  },
} satisfies Record<string, ActionSpec>;

export type ActionName = keyof typeof ACTIONS;
export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

export function isActionName(name: string): name is ActionName {
  return Object.hasOwn(ACTIONS, name);
}

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
