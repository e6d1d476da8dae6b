/**
 * Every built-in playbook passes its shipped drill: the four scenarios in drills/ run through the
 * same driver as `drill run --auto`, at high speed, on the real stack; each ends with every
 * expectation met, only simulated action_runs, and an after-action report on disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionRunsOf } from '../../db/action-runs';
import { getIncident } from '../../db/incidents';
import { runDrill } from '../../drills/driver';
import { loadScenarioFile } from '../../drills/lint';
import { startTestStack, type TestStack } from '../helpers/stack';

const DIR = path.join(import.meta.dirname, '..', '..', 'drills');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('shipped drill scenarios', () => {
  it('ships one scenario per built-in playbook', () => {
    const playbooks = files.map((f) => loadScenarioFile(path.join(DIR, f)).playbook).sort();
    expect(playbooks).toEqual([
      'agent-anomalous-behavior',
      'agent-api-unauthorized-access',
      'agent-config-tampering',
      'agent-credential-leak',
    ]);
  });

  it.each(files)('%s passes with --auto at speed 120', { timeout: 90_000 }, async (file) => {
    const scenario = loadScenarioFile(path.join(DIR, file));
    const out = await runDrill(stack, scenario, { auto: true, speed: 120, tickMs: 50 });
    expect(out.report.expectations.filter((e) => e.verdict !== 'met')).toEqual([]);
    expect(out.passed).toBe(true);
    const inc = await getIncident(stack.db, out.incidentId);
    expect(inc?.mode).toBe('drill');
    const runs = await actionRunsOf(stack.db, out.incidentId);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((r) => r.mode === 'drill')).toBe(true);
    expect(fs.readFileSync(out.reportPath, 'utf8')).toContain('# After-action report');
  });
});
