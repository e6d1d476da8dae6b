/**
 * The post-mortem built from a scripted incident with fixed timestamps: exact response metrics,
 * every timeline row in both renderings, approvals with who/when/wait, evidence with its custody
 * audit entry, action items with owners, staleness-driven re-rendering (which never writes), and
 * the Slack summary.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../db/client';
import { currentPostmortem, storePostmortem } from '../../db/postmortem-report';
import { registerActionItems, storedPostmortem } from '../../db/postmortems';
import { appendTimelineEvent, incidentTimeline } from '../../db/timeline';
import { renderPostmortemMarkdown, renderPostmortemSummary } from '../../domain/postmortem-markdown';
import { SCRIPT, scriptIncident } from '../helpers/scripted-incident';

const OPENED = '2026-03-01T10:00:00.000Z';
let db: Db;
beforeEach(async () => {
  db = openDb(':memory:');
  await scriptIncident(db, { id: 'inc-live', mode: 'live', openedAt: OPENED });
});

const note = (kind: string, actor: string, message: string) =>
  appendTimelineEvent(
    db,
    { incidentId: 'inc-live', kind, actor, message, eventKey: `test:${message}` },
    OPENED,
  );

describe('post-mortem report from stored facts', async () => {
  it('computes response metrics exactly from the timeline timestamps', async () => {
    const pm = (await storePostmortem(db, 'inc-live', '2026-03-01T13:00:00.000Z', 'test'))!;
    expect(pm.report.metrics).toEqual({
      time_to_acknowledge_seconds: SCRIPT.approved,
      time_to_contain_seconds: SCRIPT.contained,
      time_to_remediate_seconds: SCRIPT.remediated,
      time_to_close_seconds: SCRIPT.closed,
      approval_wait_seconds: [SCRIPT.approved - SCRIPT.approvalRequested],
    });
    expect(pm.markdown).toContain('| Time to acknowledge | 4m |');
    expect(pm.markdown).toContain('| Time to contain | 5m |');
    expect(pm.markdown).toContain('| Time to remediate | 1h |');
    expect(pm.markdown).toContain('| Time to close | 2h |');
    expect(pm.markdown).toContain('| Approval waits | 3m |');
  });

  it('lists every timeline row, in order, in the JSON and the Markdown', async () => {
    const rows = await incidentTimeline(db, 'inc-live');
    const pm = (await storePostmortem(db, 'inc-live', OPENED, 'test'))!;
    expect(pm.report.timeline.map((e) => [e.id, e.at, e.kind, e.actor, e.message])).toEqual(
      rows.map((r) => [r.id, r.at, r.kind, r.actor, r.message]),
    );
    for (const r of rows)
      expect(pm.markdown).toContain(`| ${r.id} | ${r.at} | ${r.kind} | ${r.actor} | ${r.message} |`);
  });

  it('reports alerts, approvals, actions, escalations, notes, agents and evidence custody', async () => {
    const { report } = (await storePostmortem(db, 'inc-live', OPENED, 'test'))!;
    expect(report.alerts).toMatchObject({ total: 3, deduplicated: 2, by_title: [{ count: 3 }] });
    expect(report.approvals).toEqual([
      {
        step_id: 'approve',
        decision: 'approve',
        actor: 'U_ALICE',
        via: 'slack',
        requested_at: '2026-03-01T10:01:00.000Z',
        decided_at: '2026-03-01T10:04:00.000Z',
        wait_seconds: 180,
      },
    ]);
    expect(report.actions).toEqual([
      expect.objectContaining({
        action: 'agent.disable',
        status: 'succeeded',
        verified: true,
        duration_seconds: 30,
      }),
    ]);
    expect(report.milestones.map((m) => m.milestone)).toEqual(['contained', 'remediated']);
    expect(report.escalations).toEqual([expect.objectContaining({ actor: 'U_BOB' })]);
    expect(report.notes).toEqual([expect.objectContaining({ text: 'Key was in a public gist' })]);
    expect(report.impact.affected_agents).toEqual([
      expect.objectContaining({
        id: 'agent-inc-live',
        owner: 'U_OWNER',
        credentials: [expect.objectContaining({ reference: 'support-bot/AKIAEXAMPLE', status: 'inactive' })],
      }),
    ]);
    expect(report.evidence).toHaveLength(1);
    expect(report.evidence[0]!.audit).toMatchObject({ outcome: 'succeeded' });
    expect(report.evidence[0]!.audit!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(report.connector_failures).toEqual([
      expect.objectContaining({ action: 'credentials.revoke', outcome: 'error', error: 'provider timeout' }),
    ]);
    expect(report.review.contributing_factors).toEqual([
      'Connector credentials.revoke (revoke) error: provider timeout',
      'Escalation by U_BOB: Bob escalated to security-leads',
    ]);
  });

  it('tracks declared action items with owners: the assignee, else the agent owner', async () => {
    await registerActionItems(
      db,
      'inc-live',
      [
        { stepId: 'rotate', phase: 'remediate', title: 'Rotate keys', assignee: 'U_BOB' },
        { stepId: 'review', phase: 'postmortem', title: 'Hold the review' },
      ],
      OPENED,
    );
    const { report, markdown } = (await storePostmortem(db, 'inc-live', OPENED, 'test'))!;
    expect(report.action_items.map((a) => [a.step_id, a.owner, a.status])).toEqual([
      ['rotate', 'U_BOB', 'open'],
      ['review', 'U_OWNER', 'open'],
    ]);
    expect(markdown).toContain('| Rotate keys | U_BOB | remediate | open | — |');
    const summary = renderPostmortemSummary(report, 'https://firebreak.example/pm');
    expect(summary).toContain('Rotate keys (<@U_BOB>)');
    expect(summary).toContain('contained 5m');
    expect(summary.split('\n').length).toBeLessThanOrEqual(5);
  });

  it('serves the stored revision until a new timeline event, then renders from the facts without storing', async () => {
    const first = (await storePostmortem(db, 'inc-live', OPENED, 'test'))!;
    expect(await currentPostmortem(db, 'inc-live', OPENED)).toMatchObject({
      revision: first.revision,
      sha256: first.sha256,
      stored: true,
    });
    await note('note', 'U_CAROL', 'late note');
    const second = (await currentPostmortem(db, 'inc-live', OPENED))!;
    expect(second).toMatchObject({ revision: first.revision + 1, stored: false });
    expect(second.markdown).toContain('late note');
    expect(renderPostmortemMarkdown(second.report)).toBe(second.markdown);
    // Reading has no side effects: another read renders the same, and the stored row is unchanged.
    expect(await currentPostmortem(db, 'inc-live', OPENED)).toMatchObject({
      revision: second.revision,
      sha256: second.sha256,
    });
    expect(await storedPostmortem(db, 'inc-live')).toMatchObject({
      revision: first.revision,
      sha256: first.sha256,
    });
  });

  it('renders a report for an incident that has none stored without storing one', async () => {
    const pm = (await currentPostmortem(db, 'inc-live', OPENED))!;
    expect(pm).toMatchObject({ revision: 1, stored: false });
    expect(await storedPostmortem(db, 'inc-live')).toBeUndefined();
  });

  it('keeps untrusted text from breaking the Markdown (HTML, pipes, newlines)', async () => {
    db = openDb(':memory:');
    await scriptIncident(db, {
      id: 'inc-live',
      mode: 'live',
      openedAt: OPENED,
      title: '<img src=x onerror=alert(1)> a|b',
    });
    await note('note', 'U_EVE', 'x | y\n<b>z</b>');
    const { markdown } = (await storePostmortem(db, 'inc-live', OPENED, 'test'))!;
    expect(markdown).not.toMatch(/<img|<b>/);
    expect(markdown).toContain('# Post-mortem: &lt;img src=x onerror=alert(1)&gt; a|b');
    expect(markdown).toContain('| note | U_EVE | x \\| y &lt;b&gt;z&lt;/b&gt; |');
  });

  it('lists timed-out approvals and aborts among the contributing factors', async () => {
    await note('approval.timed_out', 'playbook:leak', 'Approval gate timed out: reject');
    const { report } = (await storePostmortem(db, 'inc-live', OPENED, 'test'))!;
    expect(report.review.contributing_factors).toContain(
      'approval.timed_out (playbook:leak): Approval gate timed out: reject',
    );
  });

  it('returns nothing for an unknown incident', async () => {
    expect(await currentPostmortem(db, 'inc-none', OPENED)).toBeUndefined();
  });
});
