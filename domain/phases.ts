/**
 * The fixed order of incident phases. Its own module so that the playbook schema and the incident
 * types can both import it without importing each other.
 */
export const PHASES = ['assess', 'contain', 'investigate', 'remediate', 'postmortem'] as const;
export type Phase = (typeof PHASES)[number];

/** The milestone recorded when a phase's steps are done. */
export const MILESTONES: Record<Phase, string> = {
  assess: 'assessed',
  contain: 'contained',
  investigate: 'investigated',
  remediate: 'remediated',
  postmortem: 'reviewed',
};
