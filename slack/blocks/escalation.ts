/** Escalation notices: posted in the incident channel with a mention of the escalation target. */
import type { EscalationView } from '../../domain/slack-views';
import { mentionTarget, mentionUser, safeText } from '../escape';
import { section, type SlackMessage } from './types';

export type { EscalationView };

export function escalationMessage(v: EscalationView): SlackMessage {
  const to = v.target ? mentionTarget(v.target) : '<!here>';
  const by = v.by ? ` by ${/^[UW][A-Z0-9]+$/.test(v.by) ? mentionUser(v.by) : safeText(v.by, 100)}` : '';
  const text = `:rotating_light: Escalated to ${to}${by}: ${safeText(v.reason, 2000)}`;
  return { text, blocks: [section(text)] };
}
