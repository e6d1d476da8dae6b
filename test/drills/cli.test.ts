/**
 * `drill run --auto` on a fresh machine: with nothing answering FIREBREAK_URL, the CLI boots the
 * embedded stack (its own Temporal dev server on free ports) in a temp DATA_DIR, runs the drill,
 * prints the report path and exits 0 because every expectation is met.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../app/free-port';

const root = path.join(import.meta.dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

describe('drill run CLI', () => {
  it(
    'boots an embedded stack when no Firebreak answers and exits 0 with the report path',
    { timeout: 180_000 },
    async () => {
      const closed = await freePort();
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        FIREBREAK_URL: `http://127.0.0.1:${closed}`,
        TEMPORAL_DEV_PORT: String(await freePort()),
        TEMPORAL_DEV_UI_PORT: String(await freePort()),
        PORT: String(await freePort()),
      };
      delete env.TEMPORAL_ADDRESS;
      const { stdout } = await promisify(execFile)(
        tsx,
        ['cli/index.ts', 'drill', 'run', 'drills/agent-config-tampering.yaml', '--auto', '--speed', '60'],
        { cwd: root, env, timeout: 170_000 },
      );
      const reportPath = /Report: (\S+)/.exec(stdout)?.[1];
      expect(stdout).toContain('passed');
      expect(reportPath).toBeDefined();
      expect(fs.readFileSync(reportPath!, 'utf8')).toContain('**PASSED**');
    },
  );
});
