import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionRunOf } from '../../db/action-runs';
import { auditEntries } from '../../db/audit';
import { ACTION_NAMES } from '../../domain/actions';
import { startTestStack, type TestStack } from '../helpers/stack';
import { actionsFor, req } from './fixtures';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
});
afterAll(async () => {
  await stack?.close();
});

const paramsFor: Record<string, Record<string, unknown>> = {
  'credentials.revoke': { agent_id: 'a1' },
  'credentials.reactivate': { agent_id: 'a1' },
  'credentials.rotate': { agent_id: 'a1' },
  'agent.disable': { agent_id: 'a1' },
  'agent.enable': { agent_id: 'a1' },
  'agent.tools.block': { agent_id: 'a1', tools: ['shell'] },
  'agent.tools.allow': { agent_id: 'a1', tools: ['shell'] },
  'access.restrict': { agent_id: 'a1', resource: 'postgres:reporting' },
  'access.restore': { agent_id: 'a1', resource: 'postgres:reporting' },
  'evidence.collect': { agent_id: 'a1', kind: 'alerts' },
  notify: { message: 'drill' },
};

describe('drill mode', () => {
  it('never constructs live connectors, for any action, and still records and audits', async () => {
    let built = 0;
    const acts = actionsFor(stack, () => {
      built += 1;
      throw new Error('live connectors must not be built in drill mode');
    });
    for (const action of ACTION_NAMES) {
      const r = await acts.executeAction(
        req(action, paramsFor[action]!, { mode: 'drill', incidentId: 'drill-1' }),
      );
      expect(r).toMatchObject({ action, ok: true, verified: true, simulated: true, replayed: false });
    }
    expect(built).toBe(0);
    const audit = (await auditEntries(stack.db)).filter((e) => e.incidentId === 'drill-1');
    expect(audit.map((e) => e.action)).toEqual(ACTION_NAMES);
    expect(new Set(audit.map((e) => e.outcome))).toEqual(new Set(['simulated']));
  });

  it('returns the scenario outcome, including a failed verification, and replays it per step', async () => {
    const acts = actionsFor(stack, () => {
      throw new Error('not in drill');
    });
    const r = req(
      'agent.disable',
      { agent_id: 'a1' },
      {
        mode: 'drill',
        scripted: { ok: false, verified: false, summary: 'gateway ignored the switch' },
      },
    );
    const first = await acts.executeAction(r);
    expect(first).toMatchObject({
      ok: false,
      verified: false,
      simulated: true,
      summary: 'gateway ignored the switch',
    });
    expect(await acts.executeAction(r)).toEqual({ ...first, replayed: true });
    const row = await actionRunOf(stack.db, r.incidentId, r.stepId);
    expect(row?.status).toBe('failed');
  });

  it('live mode with no connector for the action fails non-retryably saying what to do', async () => {
    const acts = actionsFor(stack, () => ({}));
    await expect(acts.executeAction(req('agent.disable', { agent_id: 'a1' }))).rejects.toThrow(
      /no live connector is configured for agent.disable: configure one or run this playbook as a drill/,
    );
  });
});
