/**
 * Expectation scoring as a pure function over timeline rows with fixed timestamps: deadlines met
 * and missed, scenario time expanded by the speed factor, ordering, retries, outcomes, and a
 * facilitator's judgement overriding the automatic verdict.
 */
import { describe, expect, it } from 'vitest';
import { Expectation } from '../../drills/schema';
import { scoreExpectations, type TimelineRow } from '../../drills/scoring';

const T0 = '2026-01-01T00:00:00.000Z';
const at = (min: number) => new Date(Date.parse(T0) + min * 60_000).toISOString();
const row = (
  min: number,
  kind: string,
  data: Record<string, unknown> = {},
  actor = 'playbook:x',
): TimelineRow => ({
  at: at(min),
  kind,
  actor,
  message: kind,
  data,
});

const timeline: TimelineRow[] = [
  row(0, 'incident.started'),
  row(1, 'step.succeeded', { stepId: 'collect', kind: 'action' }),
  row(2, 'step.waiting', { stepId: 'approve_contain', kind: 'approval' }),
  row(14, 'step.running', { stepId: 'approve_contain', kind: 'approval' }),
  row(3, 'commander.assigned', {}, 'U_IC'),
  row(15, 'action.error', { stepId: 'revoke' }),
  row(16, 'step.succeeded', { stepId: 'revoke', kind: 'action' }),
  row(17, 'milestone', { phase: 'contain' }),
  row(18, 'phase.started', { phase: 'remediate' }),
  row(30, 'playbook.completed'),
];

const exp = (e: Record<string, unknown>) => Expectation.parse(e);
const score = (e: Record<string, unknown>, rows = timeline, speed = 1) =>
  scoreExpectations([exp(e)], rows, { startedAt: T0, speed })[0]!;

describe('scoreExpectations', () => {
  it('judges approval latency against its deadline (12 min > 10 min is missed)', () => {
    const r = score({ id: 'a', type: 'approved_within', step: 'approve_contain', within: '10m' });
    expect(r.verdict).toBe('missed');
    expect(r.detail).toContain('12m0s after the request (deadline 10m)');
    expect(score({ id: 'a', type: 'approved_within', step: 'approve_contain', within: '15m' }).verdict).toBe(
      'met',
    );
  });

  it('a timeline event kind within its deadline from the drill start', () => {
    expect(score({ id: 'c', type: 'event_within', kind: 'commander.assigned', within: '5m' }).verdict).toBe(
      'met',
    );
    const late = score({ id: 'c', type: 'event_within', kind: 'commander.assigned', within: '2m' });
    expect(late).toMatchObject({ verdict: 'missed', atMs: 180_000 });
    expect(score({ id: 'c', type: 'event_within', kind: 'never.happens', within: '2m' }).detail).toContain(
      'never happened',
    );
  });

  it('expands real time by the speed factor into scenario time', () => {
    // At speed 10, the commander event 3 real minutes in is 30 scenario minutes in.
    const r = score(
      { id: 'c', type: 'event_within', kind: 'commander.assigned', within: '20m' },
      timeline,
      10,
    );
    expect(r).toMatchObject({ verdict: 'missed', atMs: 1_800_000 });
  });

  it('ordering: evidence before remediation, and the reverse is missed', () => {
    expect(score({ id: 'o', type: 'before', first: 'step:collect', then: 'phase:remediate' }).verdict).toBe(
      'met',
    );
    const rev = score({ id: 'o', type: 'before', first: 'phase:contain', then: 'step:collect' });
    expect(rev.verdict).toBe('missed');
  });

  it('retried: a step that failed with a connector error and then finished', () => {
    expect(score({ id: 'r', type: 'retried', step: 'revoke' }).verdict).toBe('met');
    expect(score({ id: 'r', type: 'retried', step: 'collect' })).toMatchObject({
      verdict: 'missed',
      detail: 'collect never failed',
    });
  });

  it('outcome and facilitator expectations, and a judgement overriding the automatic verdict', () => {
    expect(score({ id: 'd', type: 'outcome', outcome: 'completed' }).verdict).toBe('met');
    expect(score({ id: 'd', type: 'outcome', outcome: 'aborted' }).verdict).toBe('missed');
    expect(score({ id: 'f', type: 'facilitator', question: 'Was legal informed?' }).verdict).toBe('pending');
    const judged = [...timeline, row(31, 'drill.judged', { expectation: 'a', verdict: 'met' }, 'U_FAC')];
    const r = score({ id: 'a', type: 'approved_within', step: 'approve_contain', within: '10m' }, judged);
    expect(r).toMatchObject({ verdict: 'met', judgedBy: 'U_FAC' });
  });
});
