/**
 * Drills through the driver and the API: an expectation that cannot be met fails the drill and is
 * named; a facilitator's judgement via the API changes the verdict; POST /v1/drills (respond scope)
 * runs a drill whose JSON report is served; drill incidents are excluded from live listings; and
 * an incident's mode cannot be changed after it is opened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listIncidents } from '../../db/incidents';
import { runDrill } from '../../drills/driver';
import type { AfterActionReport } from '../../drills/report';
import { renderAfterActionSummary } from '../../drills/report';
import { DrillScenario } from '../../drills/schema';
import { bearer, eventually, startTestStack, TEST_ADMIN_TOKEN, type TestStack } from '../helpers/stack';

const unmeetable = DrillScenario.parse({
  id: 'unmeetable',
  title: 'Nobody takes command',
  playbook: 'agent-config-tampering',
  alerts: [{ title: 'Prompt changed', severity: 'high', agent_id: 'ops-agent' }],
  expectations: [
    { id: 'commander-assigned', type: 'event_within', kind: 'commander.assigned', within: '5m' },
    { id: 'completed', type: 'outcome', outcome: 'completed' },
  ],
});

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('drill scoring end to end', () => {
  it('an expectation that cannot be met fails the drill and is named', { timeout: 90_000 }, async () => {
    const out = await runDrill(stack, unmeetable, { auto: true, speed: 120, tickMs: 50 });
    expect(out.passed).toBe(false);
    expect(out.missed).toEqual(['commander-assigned']);
    expect(out.report.improvements[0]).toContain('commander-assigned');
    expect(renderAfterActionSummary(out.report)).toMatch(/^\*Drill failed: Nobody takes command\*/);

    const res = await fetch(`${stack.url}/v1/drills/${out.incidentId}/judgements`, {
      method: 'POST',
      headers: bearer(TEST_ADMIN_TOKEN),
      body: JSON.stringify({
        expectation: 'commander-assigned',
        verdict: 'met',
        note: 'IC named on the bridge call',
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ passed: true });
    const after = await fetch(`${stack.url}/v1/drills/${out.incidentId}/report`, {
      headers: bearer(TEST_ADMIN_TOKEN),
    });
    expect(await after.json()).toMatchObject({ status: 'passed', passed: true });
  });

  it(
    'POST /v1/drills runs a drill; its report is served; live listings exclude it',
    { timeout: 90_000 },
    async () => {
      const scenario = {
        ...unmeetable,
        id: 'via-api',
        expectations: [{ id: 'done', type: 'outcome', outcome: 'completed' }],
      };
      const res = await fetch(`${stack.url}/v1/drills`, {
        method: 'POST',
        headers: bearer(TEST_ADMIN_TOKEN),
        body: JSON.stringify({ scenario, auto: true, speed: 120 }),
      });
      expect(res.status).toBe(202);
      const { incident_id } = (await res.json()) as { incident_id: string };
      const report = await eventually(async () => {
        const r = await fetch(`${stack.url}/v1/drills/${incident_id}/report`, {
          headers: bearer(TEST_ADMIN_TOKEN),
        });
        const body = (await r.json()) as AfterActionReport;
        return body.status !== 'running' ? body : undefined;
      }, 45_000);
      expect(report).toMatchObject({ passed: true, mode: 'drill', status: 'passed' });
      expect(report.simulatedActions.every((a) => a.mode === 'drill')).toBe(true);

      const list = async (q: string) => {
        const r = await fetch(`${stack.url}/v1/incidents${q}`, { headers: bearer(TEST_ADMIN_TOKEN) });
        return ((await r.json()) as { incidents: { id: string }[] }).incidents.map((i) => i.id);
      };
      expect(await list('?mode=live')).not.toContain(incident_id);
      expect(await list('?mode=drill')).toContain(incident_id);
    },
  );

  it('rejects a scenario naming an unknown playbook with a 400', async () => {
    const res = await fetch(`${stack.url}/v1/drills`, {
      method: 'POST',
      headers: bearer(TEST_ADMIN_TOKEN),
      body: JSON.stringify({ scenario: { ...unmeetable, playbook: 'nope' } }),
    });
    expect(res.status).toBe(400);
  });

  it("an incident's mode is immutable once opened", async () => {
    const [drill] = await listIncidents(stack.db, { mode: 'drill', limit: 1 });
    // The trigger refuses it whatever writes the row, so the test writes plain SQL.
    expect(() =>
      stack.db.$client.prepare('update incidents set mode = ? where id = ?').run('live', drill!.id),
    ).toThrow(/mode is immutable/);
  });
});
