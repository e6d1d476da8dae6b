/**
 * Approval facts for the post-mortem: each decision's wait is measured from its step's request,
 * also when the decision (written by its update at once) was stored before the request (written
 * by the next projection flush).
 */
import { describe, expect, it } from 'vitest';
import { approvalsOf, type FactEvent } from '../../domain/response-metrics';

const waiting: FactEvent = {
  at: '2026-12-02T08:00:00.000Z',
  kind: 'step.waiting',
  actor: 'playbook:pm',
  data: { stepId: 'gate', kind: 'approval' },
};
const approved: FactEvent = {
  at: '2026-12-02T08:00:12.500Z',
  kind: 'approval.approved',
  actor: 'U_ALICE',
  data: { stepId: 'gate', via: 'slack' },
};

describe('approvalsOf', () => {
  it('measures the wait from the request, in whichever order the two were stored', () => {
    for (const events of [
      [waiting, approved],
      [approved, waiting],
    ])
      expect(approvalsOf(events)).toEqual([
        {
          step_id: 'gate',
          decision: 'approve',
          actor: 'U_ALICE',
          via: 'slack',
          requested_at: waiting.at,
          decided_at: approved.at,
          wait_seconds: 12.5,
        },
      ]);
  });
});
