/** Escalation notices: posted in the incident channel with a mention of the escalation target. */
import { mentionTarget, mentionUser, safeText } from '../escape';
import { section, type SlackMessage } from './types';

export interface EscalationView {
  incidentId: string;
  /** Slack user (U…) or user group (S…) id; anything else is shown as escaped text. */
  target: string | undefined;
  reason: string;
  by: string | undefined;
}

export function escalationMessage(v: EscalationView): SlackMessage {
  const to = v.target ? mentionTarget(v.target) : '<!here>';
  const by = v.by ? ` by ${/^[UW][A-Z0-9]+$/.test(v.by) ? mentionUser(v.by) : safeText(v.by, 100)}` : '';
  const text = `:rotating_light: Escalated to ${to}${by}: ${safeText(v.reason, 2000)}`;
  return { text, blocks: [section(text)] };
}
