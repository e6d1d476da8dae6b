/**
 * Why the incident workflow refused a decision (an update validator's failure type). Slack and
 * the API branch on the type, never on the message, which carries user-chosen step ids.
 */
export const REFUSALS = ['Unauthorized', 'AlreadyDecided', 'Expired', 'Invalid'] as const;
export type RefusalType = (typeof REFUSALS)[number];

export function isRefusalType(t: unknown): t is RefusalType {
  return typeof t === 'string' && (REFUSALS as readonly string[]).includes(t);
}
