/**
 * Issue 17 §4: text fits Slack's limits and reads right. Every builder is fed the longest and
 * most hostile text the alert API accepts (titles of 500, labels of 2000, agent ids of 200
 * characters, all `&`, `<` and emoji) and its output must pass the fake Slack's Block Kit checks
 * (test/helpers/slack-limits.ts, written from Slack's reference). Escaping happens before the cut,
 * and the cut never splits an emoji or an entity.
 */
import { describe, expect, it } from 'vitest';
import { approvalMessage, decided, withProgress } from '../../slack/blocks/approval';
import { escalationMessage } from '../../slack/blocks/escalation';
import { confirmModal, declareModal, rejectModal } from '../../slack/blocks/modals';
import { announcement, summaryCard, type SummaryView } from '../../slack/blocks/summary';
import { taskDone, taskMessage } from '../../slack/blocks/task';
import type { SlackMessage } from '../../slack/blocks/types';
import { cutText, safeText } from '../../slack/escape';
import { blockProblems, viewProblems } from '../helpers/slack-limits';

const AMP = (n: number) => '&'.repeat(n);
const FAMILY = '👩‍👩‍👧‍👦';
const hostile = (n: number) => `<!channel>${AMP(n)}${FAMILY.repeat(n)}`.slice(0, n * 3);

function expectValid(m: SlackMessage) {
  expect(blockProblems(m.blocks, 'message')).toEqual([]);
  expect(m.text.length).toBeLessThanOrEqual(40_000);
}

describe('cutting text for Slack', () => {
  it('escapes first, then cuts: 450 `&` in 500 characters stay within 500', () => {
    const out = safeText(AMP(450), 500);
    expect(out.length).toBeLessThanOrEqual(500);
    expect(out.endsWith('&amp;…')).toBe(true);
  });

  it('never splits an emoji sequence or an entity', () => {
    const out = cutText(FAMILY.repeat(10), 20);
    expect(out.length).toBeLessThanOrEqual(20);
    expect(out).toBe(`${FAMILY.repeat(1)}…`);
    expect(safeText('a<b', 5)).toBe('a…');
  });
});

describe('every message passes Slack’s Block Kit checks with the longest hostile input', () => {
  const id = `inc-${'f'.repeat(10)}-1`;
  const label = AMP(2000);

  it('approval requests, their progress and their outcome', () => {
    const msg = approvalMessage({
      incidentId: id,
      stepId: 'a'.repeat(64),
      action: 'credentials.revoke',
      target: `credential_id=${label}; agent_id=${hostile(200)}`,
      verification: label,
      approvers: { users: ['UALICE01'], roles: [AMP(100)], groups: [AMP(100)] },
      required: 3,
      twoPerson: true,
      deadline: '2026-12-01T00:00:00.000Z',
      approvals: [],
    });
    expectValid(msg);
    expectValid({ text: msg.text, blocks: withProgress(msg.blocks, 'Approvals: *1 of 3*') });
    expectValid(decided(msg, { decision: 'rejected', at: '2026-12-01T00:00:00.000Z', reason: AMP(3000) }));
  });

  it('tasks, escalations, the summary card and the announcement', () => {
    const task = taskMessage({
      incidentId: id,
      stepId: 's',
      title: hostile(500),
      instructions: label + label,
      assignee: 'UBOB0001',
    });
    expectValid(task);
    expectValid(taskDone(task, 'UBOB0001', '2026-12-01T00:00:00.000Z', AMP(3000)));
    expectValid(escalationMessage({ incidentId: id, target: 'S0LEADS', reason: AMP(3000), by: 'UALICE01' }));
    const view: SummaryView = {
      incidentId: id,
      title: hostile(500),
      severity: 'critical',
      mode: 'drill',
      status: 'open',
      phase: AMP(100),
      agentId: AMP(200),
      alertCount: 1,
      playbookId: AMP(200),
      pendingApprovals: 2,
      roles: Array.from({ length: 40 }, (_, i) => ({ role: AMP(40), userId: `U${i}AAAAAA` })),
      incidentUrl: `https://firebreak.example.com/${AMP(200)}`,
      temporalUrl: undefined,
    };
    expectValid(summaryCard(view));
    expectValid(announcement(view, 'C00000001'));
  });

  it('modals', () => {
    const responseUrl = `https://hooks.slack.com/commands/T0001/${'9'.repeat(200)}`;
    for (const v of [
      declareModal({ channelId: 'C1', responseUrl }),
      confirmModal({ kind: 'abort', incidentId: id, channelId: 'C1', responseUrl }),
      rejectModal({ incidentId: id, stepId: 'a'.repeat(64), channelId: 'C1', messageTs: '1.2', responseUrl }),
    ])
      expect(viewProblems(v)).toEqual([]);
  });
});
