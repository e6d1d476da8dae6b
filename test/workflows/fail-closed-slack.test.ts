/**
 * A failed step after containment pages the escalation target in Slack: the incident channel gets
 * an escalation notice mentioning the target the playbook names, saying the incident needs
 * attention and containment holds (fake Slack at the HTTP boundary, real workflow).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/stack';
import { startPlaybookIncident } from '../slack/playbook-incident';
import { startSlackStack, type SlackStack } from '../slack/setup';

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
});
afterAll(async () => {
  await s?.close();
});

describe('needs attention in Slack', () => {
  it('pages the escalation target in the incident channel when a step times out after containment', async () => {
    const { incidentId } = await startPlaybookIncident(
      s,
      `
id: slack-fail-closed
version: 1
title: Slack fail closed
phases:
  contain:
    - id: disable_agent
      kind: action
      action: agent.disable
      params: { agent_id: '\${{ incident.agent_id }}' }
    - { id: confirm, kind: manual_task, task: Confirm the agent is stopped, deadline: 100ms }
  remediate:
    - id: approve_reenable
      kind: approval
      prompt: Re-enable?
      approvers: { roles: [incident_commander] }
      timeout: 1h
      on_timeout: escalate
      escalation: { target: S0SECLEADS, timeout: 1h, on_timeout: reject }
      steps:
        - { id: enable, kind: action, action: agent.enable, params: { agent_id: a1 } }
`,
    );
    const page = await eventually(
      () =>
        s.fake
          .sent('chat.postMessage')
          .find(
            (c) =>
              JSON.stringify(c.args).includes('needs attention') &&
              JSON.stringify(c.args).includes(incidentId),
          ),
      20_000,
      'the needs-attention page',
    );
    const body = JSON.stringify(page.args);
    expect(body).toContain('<!subteam^S0SECLEADS>');
    expect(body).toContain('Containment holds until a release decision');
  });
});
