/**
 * Issue 17 acceptance: every message Firebreak posts passes the fake Slack's Block Kit checks
 * for an alert whose title, agent id and labels are as long and as hostile as the alert API
 * accepts (title 500, agent id 200, label values 2000 characters; `&` becomes five characters
 * once escaped, emoji are several UTF-16 units). End to end: the summary card, the
 * announcement, an approval (request and decided render) and a manual task (posted and done),
 * with the prompt and the task rendered from templates over that text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/stack';
import { postedFor, startPlaybookIncident, stepStatus } from './playbook-incident';
import { refOf, renderedText, startSlackStack, type SlackStack } from './setup';

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
});
afterAll(async () => {
  await s?.close();
});

const FAMILY = '👩‍👩‍👧‍👦';
const hostile = (n: number) => `<!channel> <@U0000> ${'&<>'.repeat(n)}${FAMILY.repeat(n)}`.slice(0, n);

const PLAYBOOK = `
id: slack-hostile-text
version: 1
title: Hostile text
phases:
  assess:
    - id: investigate
      kind: manual_task
      task: '\${{ alert.title }} \${{ alert.labels.note }}'
      checklist: ['\${{ alert.labels.note }}', '\${{ alert.labels.more }}']
  contain:
    - id: approve_disable
      kind: approval
      prompt: 'Disable \${{ incident.agent_id }}? \${{ alert.labels.note }} \${{ alert.labels.more }}'
      approvers: { roles: [incident_commander] }
      steps:
        - id: disable_agent
          kind: action
          action: agent.disable
          params: { agent_id: '\${{ alert.labels.note }}' }
`;

/** Slack's refusals of what a message contains (as opposed to faults or membership). */
const REFUSED_CONTENT = /^(invalid_blocks|msg_too_long|invalid_arguments|invalid_metadata_\w+|no_text)$/;

describe('the longest, most hostile alert text the API accepts', () => {
  it('every message Firebreak posts or updates passes Slack’s Block Kit checks', async () => {
    const { incidentId } = await startPlaybookIncident(s, PLAYBOOK, {
      title: hostile(500),
      agentId: hostile(200),
      labels: { note: '&'.repeat(2000), more: hostile(2000) },
    });
    const task = await postedFor(s, incidentId, 'task:investigate');
    const done = (task.message.blocks as any[]).find((b) => b.block_id === 'task_actions').elements[0];
    await s.slack.click({
      actionId: 'task_done',
      value: done.value,
      channel: task.channel,
      message: task.message,
      user: { id: 'UALICE01', name: 'alice' },
    });
    await eventually(
      async () => (await stepStatus(s, incidentId, 'investigate')) === 'succeeded',
      30_000,
      'the task done',
    );
    await eventually(
      () =>
        !(s.fake.message(task.channel, task.ts)!.blocks as any[]).some((b) => b.block_id === 'task_actions'),
      30_000,
      'the task rendered done',
    );
    const approval = await postedFor(s, incidentId, 'approval:approve_disable');
    const button = (approval.message.blocks as any[])
      .find((b) => b.block_id === 'approval_actions')
      .elements.find((e: any) => e.action_id === 'approval_approve');
    await s.slack.click({
      actionId: 'approval_approve',
      value: button.value,
      channel: approval.channel,
      message: approval.message,
      user: { id: 'UALICE01', name: 'alice' },
    });
    await eventually(
      () => renderedText(s.fake.message(approval.channel, approval.ts)!).includes('Approved'),
      30_000,
      'the decided approval render',
    );
    // The summary card's ref is stored once its post answers, which may come after the render.
    await eventually(() => refOf(s, incidentId, 'summary'), 20_000, 'the summary card');
    await eventually(
      () => s.fake.sent('chat.postMessage').find((c) => c.args.channel === s.announceChannel),
      20_000,
      'the announcement',
    );
    const refused = s.fake
      .failedCalls()
      .filter((c) => REFUSED_CONTENT.test(c.error ?? ''))
      .map((c) => `${c.method}: ${c.error}`);
    expect(refused).toEqual([]);
    // Nothing of the markup is live: no mention of @channel or of a user from the alert.
    const everything = s.fake
      .sent()
      .filter((c) => c.method.startsWith('chat.'))
      .map((c) => renderedText(c.args))
      .join('\n');
    expect(everything).not.toContain('<!channel>');
    expect(everything).not.toContain('<@U0000>');
  }, 120_000);
});
