/**
 * One drill incident through every phase on the real stack (Temporal worker, SQLite, HTTP API):
 * an approval decided through the workflow update, a gated action, remediate/postmortem tasks.
 * The postmortem phase stores a report and registers the action items with owners; after the
 * close, the API's report contains every timeline row and the recorded approval and actions.
 */
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedPostmortem } from '../../db/postmortems';
import { PostmortemDocument, type PostmortemReport } from '../../domain/postmortem';
import { closeIncident, completeTask, decideApproval } from '../../workflows/messages';
import { signed } from '../helpers/decisions';
import { replayOptions } from '../helpers/histories';
import {
  alice,
  bob,
  pinYaml,
  startIncident,
  timelineRows,
  waitForPlaybook,
  waitForStep,
} from '../helpers/playbooks';
import { eventually, startTestStack, TEST_ADMIN_TOKEN, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

const playbook = pinYaml(`
id: pm-e2e
version: 1
title: Post-mortem end to end
phases:
  assess:
    - { id: tell, kind: notify, message: 'assessing \${{ incident.id }}' }
  contain:
    - id: approve_disable
      kind: approval
      prompt: Disable the agent?
      approvers: { users: [U_ALICE] }
      steps:
        - { id: disable, kind: action, action: agent.disable, params: { agent_id: '\${{ incident.agent_id }}' } }
  investigate:
    - { id: look, kind: notify, message: investigating }
  remediate:
    - { id: rotate, kind: manual_task, task: Rotate the agent keys, assignee: U_BOB }
  postmortem:
    - { id: review, kind: manual_task, task: Hold the blameless review, assignee: U_CAROL }
`);

const get = async (path: string) =>
  fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });

describe('post-mortem of an incident run through every phase', () => {
  it('stores a report at the postmortem phase and serves one with every timeline event after close', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook, mode: 'drill' });
    await waitForStep(handle, 'approve_disable', 'waiting');
    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', {
          decisionId: 'd-approve',
          stepId: 'approve_disable',
          decision: 'approve',
          actor: alice,
        }),
      ],
    });
    await waitForStep(handle, 'rotate', 'waiting');
    await handle.executeUpdate(completeTask, {
      args: [signed(handle, 'task', { decisionId: 't-rotate', stepId: 'rotate', actor: bob })],
    });
    await waitForStep(handle, 'review', 'waiting');

    // The postmortem phase stored revision 1 and registered both tasks with their owners.
    const stored = await eventually(() => storedPostmortem(stack.db, incidentId));
    expect(stored.generatedBy).toBe('playbook:pm-e2e');
    // It covers its own timeline event (recorded first, so the stored report is not born stale).
    expect((stored.report as PostmortemReport).timeline.at(-1)?.kind).toBe('postmortem.generated');
    expect(stored.coversTimelineId).toBe((stored.report as PostmortemReport).timeline.at(-1)?.id);
    // The task rows follow the workflow by one projection flush: wait for rotate's completion.
    const items = await eventually(async () => {
      const body = (await (await get(`/v1/incidents/${incidentId}/action-items`)).json()) as {
        action_items: { step_id: string; owner: string; status: string; completed_by: string | null }[];
      };
      return body.action_items.find((i) => i.step_id === 'rotate')?.status === 'done' ? body : undefined;
    });
    expect(items.action_items.map((i) => [i.step_id, i.owner, i.status, i.completed_by])).toEqual([
      ['rotate', 'U_BOB', 'done', 'U_BOB'],
      ['review', 'U_CAROL', 'open', null],
    ]);

    await handle.executeUpdate(completeTask, {
      args: [signed(handle, 'task', { decisionId: 't-review', stepId: 'review', actor: alice })],
    });
    await waitForPlaybook(handle, 'completed');
    await handle.executeUpdate(closeIncident, {
      args: [
        signed(handle, 'close', {
          decisionId: 'close',
          actor: { id: 'U_ALICE', via: 'api', roles: ['admin'] },
          reason: 'resolved',
        }),
      ],
    });
    await handle.result();

    // Its history schedules the report activity, has no patch marker, and replays with the
    // current code (the built-in playbook histories in test/histories/ cover this phase too).
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    expect(
      events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'generatePostmortem'),
    ).toBe(true);
    expect(events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toBe(false);
    await expect(Worker.runReplayHistory(replayOptions(), history)).resolves.toBeUndefined();

    const rows = timelineRows(stack, incidentId);
    const md = await get(`/v1/incidents/${incidentId}/postmortem.md`);
    expect(md.status).toBe(200);
    expect(md.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(Number(md.headers.get('x-postmortem-revision'))).toBeGreaterThan(stored.revision);
    expect(md.headers.get('x-postmortem-stored')).toBe('false');
    const markdown = await md.text();
    for (const r of rows) expect(markdown).toContain(`| ${r.id} | ${r.at} | ${r.kind} |`);
    for (const m of ['assessed', 'contained', 'investigated', 'remediated', 'reviewed', 'closed'])
      expect(markdown).toContain(`| ${m} |`);

    const json = (await (
      await get(`/v1/incidents/${incidentId}/postmortem.json`)
    ).json()) as PostmortemReport;
    // The body matches the schema the OpenAPI document publishes for it.
    expect(PostmortemDocument.safeParse(json).error).toBeUndefined();
    expect(json.timeline.map((e) => e.id)).toEqual(rows.map((r) => r.id));
    expect(json.incident).toMatchObject({ mode: 'drill', status: 'closed' });
    expect(json.approvals).toEqual([
      expect.objectContaining({
        step_id: 'approve_disable',
        decision: 'approve',
        actor: 'U_ALICE',
        via: 'api',
      }),
    ]);
    expect(json.approvals[0]!.wait_seconds).toBeGreaterThanOrEqual(0);
    expect(json.actions.map((a) => [a.step_id, a.action, a.status])).toEqual([
      ['tell', 'notify', 'succeeded'],
      ['disable', 'agent.disable', 'succeeded'],
      ['look', 'notify', 'succeeded'],
    ]);
    expect(json.metrics.time_to_acknowledge_seconds).not.toBeNull();
    expect(json.metrics.time_to_contain_seconds).not.toBeNull();
    expect(json.metrics.time_to_close_seconds).not.toBeNull();
    expect(json.action_items.every((i) => i.status === 'done')).toBe(true);
    // Reading wrote nothing: the stored report is still the one the postmortem phase stored.
    expect(await storedPostmortem(stack.db, incidentId)).toMatchObject({
      revision: stored.revision,
      sha256: stored.sha256,
    });
  });

  it('renders a report on demand for an incident that never reached a postmortem phase', async () => {
    const { incidentId } = await startIncident(stack, {});
    await eventually(() => timelineRows(stack, incidentId).length > 0);
    const res = await get(`/v1/incidents/${incidentId}/postmortem.json`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as PostmortemReport & { revision: number };
    expect(body.revision).toBe(1);
    expect(await storedPostmortem(stack.db, incidentId)).toBeUndefined();
    expect(body.metrics.time_to_contain_seconds).toBeNull();
    expect((await get('/v1/incidents/inc-nope/postmortem.md')).status).toBe(404);
    expect((await fetch(`${stack.url}/v1/incidents/${incidentId}/postmortem.md`)).status).toBe(401);
  });
});
