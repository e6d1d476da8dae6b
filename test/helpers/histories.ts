/**
 * Recorded workflow histories: where they live (test/histories/, committed), how they are read
 * back (Temporal's JSON history format), and a replay worker options builder that uses the test
 * run's shared workflow bundle, so replay checks exactly the code the other tests run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import type { ReplayWorkerOptions } from '@temporalio/worker';
import { inject } from 'vitest';
import { projectRoot } from '../../temporal/cli-binary';

export const HISTORY_DIR = path.join(projectRoot, 'test', 'histories');

export interface RecordedHistory {
  workflowId: string;
  history: History;
}

export function readHistory(file: string): RecordedHistory {
  return {
    workflowId: path.basename(file, '.json'),
    history: historyFromJSON(JSON.parse(fs.readFileSync(file, 'utf8'))),
  };
}

export function committedHistories(): RecordedHistory[] {
  return fs
    .readdirSync(HISTORY_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readHistory(path.join(HISTORY_DIR, f)));
}

export function replayOptions(): ReplayWorkerOptions {
  return { workflowBundle: { codePath: inject('workflowBundlePath') } };
}
