/**
 * A drill at speed: its real history replays on the current code, and every playbook timer in it
 * is divided by the speed (agent-config-tampering's longest deadline, 1h, fires after 30 s at
 * 120x). With FIREBREAK_RECORD_HISTORIES=1 the recording replaces test/histories/drill-at-speed.json,
 * which test/workflows/replay.test.ts replays.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDrill } from '../../drills/driver';
import { loadScenarioFile } from '../../drills/lint';
import { incidentWorkflowId } from '../../temporal/client';
import { HISTORY_DIR, readHistory, replayOptions } from '../helpers/histories';
import { startTestStack, type TestStack } from '../helpers/stack';

const outDir = process.env.FIREBREAK_RECORD_HISTORIES
  ? HISTORY_DIR
  : fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-drill-history-'));

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
  if (outDir !== HISTORY_DIR) fs.rmSync(outDir, { recursive: true, force: true });
});

describe('drill at speed history', () => {
  it('a sped-up drill scales every playbook timer and replays', { timeout: 90_000 }, async () => {
    const file = path.join(import.meta.dirname, '..', '..', 'drills', 'agent-config-tampering.yaml');
    const out = await runDrill(stack, loadScenarioFile(file), { auto: true, speed: 120, tickMs: 50 });
    expect(out.report.expectations.filter((e) => e.verdict !== 'met')).toEqual([]);
    const history = await stack.temporal.client.workflow
      .getHandle(incidentWorkflowId(out.incidentId))
      .fetchHistory();
    const target = path.join(outDir, 'drill-at-speed.json');
    fs.writeFileSync(target, `${historyToJSON(history)}\n`);
    const timerSeconds = (history.events ?? []).flatMap((e) => {
      const t = e.timerStartedEventAttributes?.startToFireTimeout;
      return t ? [Number(t.seconds ?? 0) + (t.nanos ?? 0) / 1e9] : [];
    });
    expect(timerSeconds.length).toBeGreaterThan(0);
    expect(Math.max(...timerSeconds)).toBeLessThanOrEqual(30);
    await Worker.runReplayHistory(replayOptions(), readHistory(target).history);
  });
});
