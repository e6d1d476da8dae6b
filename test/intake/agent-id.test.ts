/**
 * One agent id per alert: routing, grouping, mode rules and the playbook's actions read the same
 * resolved id. An alert whose agent_id and labels.agent_id disagree is refused (400 naming both),
 * because a label used to send a real incident about one agent down a drill rule meant for another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { post } from '../helpers/intake';
import {
  bearer,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    withWorker: false,
    fileConfig: parseFileConfig(
      {
        rules: [
          { name: 'rehearsal', match: { labels: { agent_id: 'agent-drill' } }, mode: 'drill' },
          { name: 'by-agent', match: { labels: { team: 'agents' } }, group_by: 'agent_id' },
        ],
      },
      {},
      'test config',
    ),
  });
});
afterAll(async () => {
  await stack?.close();
});

const send = (body: Record<string, unknown>) =>
  post(
    `${stack.url}/v1/alerts`,
    { title: 'Agent key on a paste site', severity: 'critical', source: 'siem', ...body },
    { authorization: `Bearer ${TEST_WEBHOOK_SECRET}` },
  );

async function incident(id: string) {
  const res = await fetch(`${stack.url}/v1/incidents/${id}`, { headers: bearer(TEST_ADMIN_TOKEN) });
  return (await res.json()) as { agent_id: string | null; mode: string };
}

describe('one agent id per alert', () => {
  it('refuses an alert whose agent_id and labels.agent_id disagree, naming both', async () => {
    const res = await send({
      dedup_key: 'mismatch',
      agent_id: 'agent-7',
      labels: { agent_id: 'agent-drill' },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'agent_id_conflict', field: 'labels.agent_id' });
    expect(res.json.error.message).toMatch(/agent_id \(agent-7\) and labels\.agent_id \(agent-drill\)/);
  });

  it('routes, picks the mode and names the incident agent from the same id', async () => {
    const live = await send({ dedup_key: 'field-only', agent_id: 'agent-7' });
    expect(live.status).toBe(202);
    expect(await incident(live.json.incident_id)).toMatchObject({ agent_id: 'agent-7', mode: 'live' });

    // The label alone is the agent id too: the drill rule and the incident agree on agent-drill.
    const drill = await send({ dedup_key: 'label-only', labels: { agent_id: 'agent-drill' } });
    expect(drill.status).toBe(202);
    expect(await incident(drill.json.incident_id)).toMatchObject({ agent_id: 'agent-drill', mode: 'drill' });

    // The same agent as a field or as a label matches the drill rule alike.
    const sameAgent = await send({
      dedup_key: 'both-agree',
      agent_id: 'agent-drill',
      labels: { agent_id: 'agent-drill' },
    });
    expect(await incident(sameAgent.json.incident_id)).toMatchObject({
      agent_id: 'agent-drill',
      mode: 'drill',
    });
  });

  it('groups by the resolved agent, whichever field carried it', async () => {
    const a = await send({ dedup_key: 'g1', agent_id: 'agent-9', labels: { team: 'agents' } });
    const b = await send({ dedup_key: 'g2', labels: { team: 'agents', agent_id: 'agent-9' } });
    expect(a.status).toBe(202);
    expect(b.json).toMatchObject({ incident_id: a.json.incident_id, deduplicated: true });
  });
});
