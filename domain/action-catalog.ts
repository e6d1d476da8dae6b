/**
 * The catalog of connector actions, without their input schemas: what each does, whether it
 * changes anything, how its effect is verified, and its undo. Free of zod, so the incident
 * workflow can read it without evaluating schema code in every new workflow (the SDK keeps
 * module state per workflow). domain/actions.ts adds the input schemas.
 */
export interface ActionMeta {
  description: string;
  /** false for read-only actions (evidence, notify): they never need idempotency guards. */
  mutates: boolean;
  /** How the connector proves the effect after acting (recorded as `verified`). */
  verification: string;
  /** The action that undoes this one, used as the default compensation. */
  undo?: string;
  /**
   * A containment action: its effect stops a compromised agent, so no failure, timeout, crash or
   * abort undoes it; only an explicit release decision runs its undo.
   */
  contains?: boolean;
  /**
   * Cannot be undone once done (a rotated-away credential is gone for good): approving it needs a
   * recent multi-factor sign-in (domain/step-up.ts).
   */
  irreversible?: boolean;
}

export const ACTION_CATALOG = {
  'credentials.revoke': {
    description: "Revoke (deactivate) an agent's credential at its provider.",
    mutates: true,
    verification: 'Reads the credential back from the provider and checks it is inactive.',
    undo: 'credentials.reactivate',
    contains: true,
  },
  'credentials.reactivate': {
    description: 'Re-activate a credential that credentials.revoke deactivated (compensation).',
    mutates: true,
    verification: 'Reads the credential back and checks it is active.',
  },
  'credentials.rotate': {
    description:
      'Issue a new credential for the agent and deactivate the old one (where the provider supports it).',
    mutates: true,
    verification: 'Checks the old credential is inactive and the new one exists.',
    irreversible: true,
  },
  'agent.disable': {
    description: "Flip the agent's kill switch so its runtime and AI gateways stop it.",
    mutates: true,
    verification: "Reads the agent's signed status endpoint back and checks it says disabled.",
    undo: 'agent.enable',
    contains: true,
  },
  'agent.enable': {
    description: 'Re-enable a disabled agent (a release of containment: gate it behind an approval).',
    mutates: true,
    verification: "Reads the agent's status endpoint back and checks it says enabled.",
    undo: 'agent.disable',
  },
  'agent.tools.block': {
    description: 'Take tools away from the agent: firebreak.tool.allowed turns false for them.',
    mutates: true,
    verification: "Reads the agent's signed status document back and checks it lists the tools as blocked.",
    undo: 'agent.tools.allow',
  },
  'agent.tools.allow': {
    description: 'Give back tools that agent.tools.block took away (compensation).',
    mutates: true,
    verification: "Reads the agent's signed status document back and checks the tools are no longer blocked.",
    undo: 'agent.tools.block',
  },
  'access.restrict': {
    description: 'Remove a role or permission from the agent (e.g. disable its database role).',
    mutates: true,
    verification: 'Attempts the restricted access and checks it now fails.',
    undo: 'access.restore',
    contains: true,
  },
  'access.restore': {
    description: 'Restore access removed by access.restrict (compensation).',
    mutates: true,
    verification: 'Attempts the access and checks it works again.',
  },
  'evidence.collect': {
    description: 'Collect an artifact (logs, auth attempts, config snapshot) into the evidence store.',
    mutates: false,
    verification: 'Re-hashes the stored artifact and checks it matches the custody record.',
  },
  notify: {
    description: 'Send a notification to the incident channel or a named target.',
    mutates: false,
    verification: 'The provider acknowledged the message.',
  },
} satisfies Record<string, ActionMeta>;

export type ActionName = keyof typeof ACTION_CATALOG;
export const ACTION_NAMES = Object.keys(ACTION_CATALOG) as ActionName[];

export function isActionName(name: string): name is ActionName {
  return Object.hasOwn(ACTION_CATALOG, name);
}

/** Whether `name` is a containment action (see ActionMeta.contains). */
export function isContaining(name: string): boolean {
  return isActionName(name) && (ACTION_CATALOG[name] as ActionMeta).contains === true;
}

/** The action that undoes `name`, if it declares one. */
export function undoOf(name: ActionName): string | undefined {
  return (ACTION_CATALOG[name] as ActionMeta).undo;
}
