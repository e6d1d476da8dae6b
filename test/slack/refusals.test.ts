import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { refusalOf } from '../../slack/context';

// The validators' messages as the playbook interpreter (feat/playbooks) throws them.
const refused = (message: string) =>
  new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.create({ message }));

describe('reading a refused workflow update for a person', () => {
  it.each([
    ['UBOB0001 is not an approver of approve_disable', 'unauthorized'],
    ['two-person rule: UALICE01 requested approve_disable and cannot decide on it', 'unauthorized'],
    ['UALICE01 already decided on approve_disable: approvers must be distinct people', 'already'],
    ['step approve_disable is not waiting for a decision (status: running)', 'already'],
    ['step approve_disable is not waiting for a decision (status: failed)', 'expired'],
    ['the deadline of approve_disable passed at 2026-11-22T00:00:00.000Z', 'expired'],
    ['No registered handler for update: escalate', 'unsupported'],
    ['incident is already closed', 'already'],
    ['text is required', 'invalid'],
  ])('%s → %s', (message, kind) => {
    expect(refusalOf(refused(message))?.kind).toBe(kind);
  });

  it('treats a workflow that is gone as a closed incident, and anything else as not a refusal', () => {
    expect(refusalOf(new WorkflowNotFoundError('gone', 'incident-x', undefined))?.kind).toBe('closed');
    expect(refusalOf(new Error('connection reset'))).toBeUndefined();
  });
});
