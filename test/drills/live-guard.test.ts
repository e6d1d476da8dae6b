/**
 * Structural proof that drills never reach a live connector: the worker is given a live connector
 * factory that records every use and throws. A full drill (every built-in action kind, a retried
 * step, approvals) makes zero calls; a live incident on the same worker does call it, so the
 * factory is really wired and the zero is not vacuous.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveConnectors } from '../../activities/actions';
import { runDrill } from '../../drills/driver';
import { loadScenarioFile } from '../../drills/lint';
import { pinYaml, startIncident } from '../helpers/playbooks';
import { eventually, startTestStack, type TestStack } from '../helpers/stack';

const calls: string[] = [];
const recordingFactory = (): LiveConnectors => {
  calls.push('factory');
  return new Proxy({} as LiveConnectors, {
    get(_t, action) {
      calls.push(`handler:${String(action)}`);
      throw new Error(`live connector ${String(action)} reached`);
    },
  });
};

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ liveConnectors: recordingFactory });
});
afterAll(async () => {
  await stack?.close();
});

describe('drill mode and live connectors', () => {
  it('a full drill makes zero live connector calls', { timeout: 90_000 }, async () => {
    const file = path.join(import.meta.dirname, '..', '..', 'drills', 'agent-credential-leak.yaml');
    const out = await runDrill(stack, loadScenarioFile(file), { auto: true, speed: 120, tickMs: 50 });
    expect(out.report.simulatedActions.length).toBeGreaterThan(5);
    expect(out.passed).toBe(true);
    expect(calls).toEqual([]);
  });

  it('the same worker does build live connectors for a live incident (the guard is real)', async () => {
    const playbook = pinYaml(`
id: live-probe
version: 1
title: probe
phases:
  contain:
    - id: disable
      kind: action
      action: agent.disable
      params: { agent_id: agent-7, reason: probe }
      retry: { attempts: 1 }
`);
    await startIncident(stack, { playbook, mode: 'live' });
    await eventually(() => calls.length > 0, 15_000, 'the live connector factory to be used');
    expect(calls[0]).toBe('factory');
  });
});
