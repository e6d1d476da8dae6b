/** The Block Kit shapes Firebreak builds, kept loose on purpose: Slack validates them, we render. */
import { cutText } from '../escape';

export type Block = Record<string, unknown>;

export interface SlackMessage {
  /** Notification and accessibility fallback; escaped like the blocks. */
  text: string;
  blocks: Block[];
}

export function section(mrkdwn: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: mrkdwn } };
}

export function context(...mrkdwn: string[]): Block {
  return { type: 'context', elements: mrkdwn.map((text) => ({ type: 'mrkdwn', text })) };
}

export function fields(pairs: [string, string][]): Block {
  return {
    type: 'section',
    fields: pairs.slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${v}` })),
  };
}

export function plain(text: string, max = 75): { type: 'plain_text'; text: string; emoji: boolean } {
  return { type: 'plain_text', text: cutText(text, max), emoji: true };
}
