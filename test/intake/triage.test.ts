/**
 * An alert that matches no playbook is not left waiting in assess with nobody told: it runs the
 * triage playbook (playbooks/triage.yaml), which announces it, snapshots the evidence and asks the
 * responders, through a manual task, which playbook applies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryIncident } from '../../temporal/client';
import { incidentState } from '../../workflows/messages';
import { playbookState } from '../../workflows/messages';
import { post } from '../helpers/intake';
import { timelineRows } from '../helpers/playbooks';
import {
  bearer,
  eventually,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('an alert no playbook matches', () => {
  it('runs the triage playbook: announced, evidence snapshot, responders asked which playbook applies', async () => {
    const res = await post(
      `${stack.url}/v1/alerts`,
      {
        title: 'Odd outbound traffic',
        severity: 'high',
        source: 'netmon',
        dedup_key: 'odd-1',
        agent_id: 'agent-3',
      },
      { authorization: `Bearer ${TEST_WEBHOOK_SECRET}` },
    );
    expect(res.status).toBe(202);
    const id = res.json.incident_id as string;
    const state = await eventually(
      async () => {
        const s = await queryIncident(stack.temporal, id, playbookState).catch(() => null);
        return s?.openTasks.some((t) => t.stepId === 'choose_playbook') ? s : undefined;
      },
      20_000,
      'the triage task to be open',
    );
    expect(state.id).toBe('triage');
    expect(state.status).toBe('running');
    const steps = new Map(state.steps.map((s) => [s.id, s.status]));
    // Without live connectors the announcement and the snapshot fail, and triage still asks.
    expect(steps.has('announce')).toBe(true);
    expect(steps.has('collect_alerts')).toBe(true);
    expect(steps.get('choose_playbook')).toBe('waiting');

    expect((await queryIncident(stack.temporal, id, incidentState)).playbook).toMatchObject({ id: 'triage' });
    // The incident row follows with the workflow's next projection flush.
    await eventually(
      async () => {
        const res = await fetch(`${stack.url}/v1/incidents/${id}`, { headers: bearer(TEST_ADMIN_TOKEN) });
        return JSON.stringify(await res.json()).includes('triage') || undefined;
      },
      15_000,
      'the incident row to name triage',
    );
    await eventually(
      () =>
        timelineRows(stack, id).some((r) => /Task: Decide which playbook applies/.test(r.message)) ||
        undefined,
      15_000,
      'the triage task on the timeline',
    );
  });
});
