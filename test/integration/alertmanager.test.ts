import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listIncidents } from '../../db/incidents';
import {
  failingRelay,
  requireAlertmanager,
  startAlertmanager,
  type RunningAlertmanager,
} from '../helpers/alertmanager';
import { eventually, startTestStack, TEST_WEBHOOK_SECRET, type TestStack } from '../helpers/stack';

// Fails (never skips) when the binary is missing: the message says what to install.
requireAlertmanager();

let stack: TestStack;
let am: RunningAlertmanager;
let relay: Awaited<ReturnType<typeof failingRelay>>;
beforeAll(async () => {
  stack = await startTestStack();
  relay = await failingRelay(stack.url);
  am = await startAlertmanager(`${relay.url}/v1/alerts/alertmanager`, TEST_WEBHOOK_SECRET);
});
afterAll(async () => {
  await am?.stop();
  await relay?.close();
  await stack?.close();
});

async function pushAlert(alertname: string, agent: string) {
  const res = await fetch(`${am.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      {
        labels: { alertname, severity: 'critical', agent_id: agent, job: 'agent-gateway' },
        annotations: { summary: `${agent} called a tool it is not allowed to` },
        startsAt: new Date().toISOString(),
        generatorURL: 'http://prometheus.example.com/graph',
      },
    ]),
  });
  expect(res.status).toBe(200);
}

const deliveriesFor = (alertname: string) =>
  relay.deliveries.filter((d) => d.body.commonLabels?.alertname === alertname);
/** Resolves with the deliveries for `alertname` once there are at least `n`. */
const awaitDeliveries = (alertname: string, n: number, timeoutMs: number) =>
  eventually(
    () => {
      const d = deliveriesFor(alertname);
      return d.length >= n ? d : undefined;
    },
    timeoutMs,
    `${n} deliveries of ${alertname}`,
  );

describe('a real Prometheus Alertmanager delivering to the webhook endpoint', () => {
  it('delivers an alert with its bearer credentials, and it becomes one incident', async () => {
    await pushAlert('AgentForbiddenTool', 'agent-77');
    const [delivery] = await awaitDeliveries('AgentForbiddenTool', 1, 30_000);
    expect(delivery!.status).toBe(202);
    expect(delivery!.body.version).toBe('4');
    const rows = await listIncidents(stack.db, { agentId: 'agent-77', limit: 100 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      source: 'default',
      severity: 'critical',
      title: 'agent-77 called a tool it is not allowed to',
    });
    await eventually(
      async () => (await listIncidents(stack.db, { agentId: 'agent-77', limit: 1 }))[0]?.startedAt,
      20_000,
      'workflow start',
    );
  });

  it('retries after a 5xx for a delivery we had already stored, without opening a second incident', async () => {
    relay.state.failNext = 1;
    await pushAlert('AgentPromptInjection', 'agent-88');
    const tries = await awaitDeliveries('AgentPromptInjection', 2, 60_000);
    expect(tries.every((d) => d.status === 202)).toBe(true);
    const fingerprint = tries[0]!.body.alerts[0].fingerprint;
    expect(tries[1]!.body.alerts[0].fingerprint).toBe(fingerprint);
    const rows = await listIncidents(stack.db, { agentId: 'agent-88', limit: 100 });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.alertCount).toBe(tries.length);
    expect(rows[0]!.key).toBe(`default:${fingerprint}`);
  });
});
