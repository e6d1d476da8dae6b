/**
 * Manual tasks as checklist messages: what a human must do by hand, with a Done button that
 * becomes the workflow's `completeTask` update; once done, the button gives way to who and when.
 */
import type { TaskView } from '../../domain/slack-views';
import { mentionUser, safeText, slackDate } from '../escape';
import { plain, section, type SlackMessage } from './types';

export const TASK_DONE_ACTION = 'task_done';

export type { TaskView };

export function taskMessage(v: TaskView): SlackMessage {
  const value = JSON.stringify({ incidentId: v.incidentId, stepId: v.stepId });
  const who = v.assignee ? ` · assigned to ${mentionUser(v.assignee)}` : '';
  return {
    text: `Manual task: ${safeText(v.title, 200)}`,
    blocks: [
      {
        ...section(`:ballot_box_with_check: *${safeText(v.title, 200)}*${who}`),
        block_id: 'task_head',
      },
      ...(v.instructions ? [{ ...section(safeText(v.instructions, 2900)), block_id: 'task_body' }] : []),
      {
        type: 'actions',
        block_id: 'task_actions',
        elements: [
          { type: 'button', action_id: TASK_DONE_ACTION, style: 'primary', text: plain('Done'), value },
        ],
      },
    ],
  };
}

export function taskDone(message: SlackMessage, by: string, at: string, note?: string): SlackMessage {
  const kept = message.blocks.filter((b) => b.block_id !== 'task_actions' && b.block_id !== 'task_done');
  const extra = note ? `\n>${safeText(note, 1000)}` : '';
  return {
    text: `${message.text} — done`,
    blocks: [
      ...kept,
      {
        ...section(`:white_check_mark: Done by ${mentionUser(by)} at ${slackDate(at)}${extra}`),
        block_id: 'task_done',
      },
    ],
  };
}
