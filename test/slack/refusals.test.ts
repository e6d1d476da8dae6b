/**
 * How a refused decision is read for a person. The validators' failure type decides (domain/
 * refusals.ts), never the message, which carries step ids a playbook author chose: a step named
 * `forbidden_gate` must not turn an "already decided" into an audited unauthorized attempt.
 * Untyped refusals (e.g. the close validator's) still fall back to the message. The errors are the
 * SDK's own classes, shaped as the client raises them for a rejected update.
 */
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { refusalOf } from '../../slack/context';

const refused = (message: string, type?: string) =>
  new WorkflowUpdateFailedError(
    'Workflow Update failed',
    ApplicationFailure.create({ message, ...(type ? { type } : {}), nonRetryable: true }),
  );

describe('reading a refused workflow update for a person', () => {
  it.each([
    ['step forbidden_gate is not waiting for a decision (status: succeeded)', 'AlreadyDecided', 'already'],
    ['the deadline of not_allowed_step passed at 2026-11-22T00:00:00.000Z', 'Expired', 'expired'],
    ['unknown step permission_check', 'Invalid', 'invalid'],
    ['UBOB0001 is not an approver of already_done', 'Unauthorized', 'unauthorized'],
    [
      'two-person rule: UALICE01 requested approve_disable and cannot approve it',
      'Unauthorized',
      'unauthorized',
    ],
  ])('typed: %s (%s) → %s', (message, type, kind) => {
    expect(refusalOf(refused(message, type))?.kind).toBe(kind);
  });

  it.each([
    ['No registered handler for update: escalate', 'unsupported'],
    ['incident is already closed', 'already'],
    ['step approve_disable is not waiting for a decision (status: failed)', 'expired'],
    ['text is required', 'invalid'],
  ])('untyped: %s → %s', (message, kind) => {
    expect(refusalOf(refused(message))?.kind).toBe(kind);
  });

  it('treats a workflow that is gone as a closed incident, and anything else as not a refusal', () => {
    expect(refusalOf(new WorkflowNotFoundError('gone', 'incident-x', undefined))?.kind).toBe('closed');
    expect(refusalOf(new Error('connection reset'))).toBeUndefined();
  });
});
