/**
 * Output schemas for the action catalog (domain/actions.ts declares inputs): what each action's
 * result `output` contains. executeAction validates every live connector's output against these,
 * so a playbook or the API can rely on the shape whichever provider acted.
 */
import { z } from 'zod';
import type { ActionName } from '../domain/actions';

const credentialState = z.object({
  id: z.string(),
  provider: z.enum(['aws_iam', 'postgres', 'firebreak', 'http']),
  reference: z.string(),
  status: z.enum(['active', 'inactive']),
});

const credentials = z.object({
  agent_id: z.string(),
  credentials: z.array(credentialState),
  /** credentials.rotate: the new credential's reference (its secret is never returned). */
  issued: z.array(z.object({ id: z.string(), reference: z.string() })).optional(),
});

const agentStatus = z.object({
  agent_id: z.string(),
  status: z.enum(['enabled', 'disabled']),
  version: z.number().int(),
});

const agentTools = z.object({
  agent_id: z.string(),
  blocked_tools: z.array(z.string()),
  version: z.number().int(),
});

const access = z.object({
  agent_id: z.string(),
  resource: z.string(),
  can_login: z.boolean(),
  terminated_sessions: z.number().int().optional(),
  response: z.unknown().optional(),
});

export const ACTION_OUTPUTS = {
  'credentials.revoke': credentials,
  'credentials.reactivate': credentials,
  'credentials.rotate': credentials,
  'agent.disable': agentStatus,
  'agent.enable': agentStatus,
  'agent.tools.block': agentTools,
  'agent.tools.allow': agentTools,
  'access.restrict': access,
  'access.restore': access,
  'evidence.collect': z.object({
    agent_id: z.string(),
    kind: z.string(),
    status: z.enum(['collected', 'partial', 'not_available']),
    artifacts: z.array(
      z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int(), source: z.string() }),
    ),
  }),
  notify: z.object({ recorded: z.literal(true), target: z.string() }),
} satisfies Record<ActionName, z.ZodType>;

export type ActionOutput<A extends ActionName> = z.infer<(typeof ACTION_OUTPUTS)[A]>;
