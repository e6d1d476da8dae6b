/**
 * Modals: declaring an incident by hand, confirming resolve/abort with a reason, and the reason
 * for rejecting an approval. Each carries what its submission handler needs in private_metadata,
 * including the response_url of the payload that opened it, where the submission's reply goes.
 */
import { SEVERITIES } from '../../domain/alert';
import { safeText } from '../escape';
import { plain, section, type Block } from './types';

export const DECLARE_VIEW = 'incident_declare';
export const CONFIRM_VIEW = 'incident_confirm';
export const REJECT_VIEW = 'approval_reject_reason';

function input(blockId: string, label: string, element: Block, optional = false): Block {
  return { type: 'input', block_id: blockId, optional, label: plain(label), element };
}

function textInput(actionId: string, multiline = false, max = 500): Block {
  return { type: 'plain_text_input', action_id: actionId, multiline, max_length: max };
}

export function declareModal(meta: { channelId: string; responseUrl: string }): Block {
  return {
    type: 'modal',
    callback_id: DECLARE_VIEW,
    private_metadata: JSON.stringify(meta),
    title: plain('Declare an incident', 24),
    submit: plain('Declare'),
    close: plain('Cancel'),
    blocks: [
      input('title', 'What is happening?', textInput('value')),
      input('severity', 'Severity', {
        type: 'static_select',
        action_id: 'value',
        initial_option: { text: plain('high'), value: 'high' },
        options: SEVERITIES.map((s) => ({ text: plain(s), value: s })),
      }),
      input('agent', 'Affected agent id', textInput('value', false, 200), true),
      input(
        'mode',
        'Mode',
        {
          type: 'checkboxes',
          action_id: 'value',
          options: [{ text: plain('This is a drill (no live actions)'), value: 'drill' }],
        },
        true,
      ),
    ],
  };
}

export type ConfirmKind = 'resolve' | 'abort';

export function confirmModal(meta: {
  kind: ConfirmKind;
  incidentId: string;
  channelId: string;
  responseUrl: string;
}): Block {
  const verb = meta.kind === 'resolve' ? 'Resolve' : 'Abort';
  const warning =
    meta.kind === 'resolve'
      ? 'This closes the incident. Later alerts for the same key open a new one.'
      : 'This stops the playbook: pending steps are cancelled and no further actions run.';
  return {
    type: 'modal',
    callback_id: CONFIRM_VIEW,
    private_metadata: JSON.stringify(meta),
    title: plain(`${verb} incident`, 24),
    submit: plain(verb),
    close: plain('Cancel'),
    blocks: [
      section(`*${verb} \`${safeText(meta.incidentId, 80)}\`?* ${warning}`),
      input('reason', 'Reason', textInput('value', true, 1000)),
    ],
  };
}

export function rejectModal(meta: {
  incidentId: string;
  stepId: string;
  channelId: string;
  messageTs: string;
  responseUrl: string;
}): Block {
  return {
    type: 'modal',
    callback_id: REJECT_VIEW,
    private_metadata: JSON.stringify(meta),
    title: plain('Reject step', 24),
    submit: plain('Reject'),
    close: plain('Cancel'),
    blocks: [
      section(`Rejecting step \`${safeText(meta.stepId, 80)}\` of \`${safeText(meta.incidentId, 80)}\`.`),
      input('reason', 'Why?', textInput('value', true, 1000)),
    ],
  };
}
