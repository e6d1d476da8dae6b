/**
 * The drill-speed patch is replay-safe: a sped-up drill's real history carries the `drill-speed`
 * patch marker and replays on the current code. With FIREBREAK_RECORD_HISTORIES=1 the recording
 * replaces test/histories/drill-speed-incident.json, which test/workflows/replay.test.ts replays.
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDrill } from '../../drills/driver';
import { loadScenarioFile } from '../../drills/lint';
import { incidentWorkflowId } from '../../temporal/client';
import { DRILL_SPEED_PATCH } from '../../workflows/step-runtime';
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
});

describe('drill-speed history', () => {
  it('a sped-up drill records the drill-speed patch and replays', { timeout: 90_000 }, async () => {
    const file = path.join(import.meta.dirname, '..', '..', 'drills', 'agent-config-tampering.yaml');
    const out = await runDrill(stack, loadScenarioFile(file), { auto: true, speed: 120, tickMs: 50 });
    expect(out.report.expectations.filter((e) => e.verdict !== 'met')).toEqual([]);
    const history = await stack.temporal.client.workflow
      .getHandle(incidentWorkflowId(out.incidentId))
      .fetchHistory();
    const target = path.join(outDir, 'drill-speed-incident.json');
    fs.writeFileSync(target, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`);
    const patches = (history.events ?? []).flatMap((e) =>
      (e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map(
        (p) => (JSON.parse(Buffer.from(p.data!).toString('utf8')) as { id: string }).id,
      ),
    );
    expect(patches).toContain(DRILL_SPEED_PATCH);
    await Worker.runReplayHistory(replayOptions(), readHistory(target).history);
  });
});
