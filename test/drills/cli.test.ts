/**
 * `drill run` as a user meets it. On a fresh machine (nothing answers FIREBREAK_URL) the CLI boots
 * the embedded stack (its own Temporal dev server on free ports) in a temp DATA_DIR, says how long
 * the scenario takes at this speed, shows each inject, decision and step as it happens, prints the
 * report path and exits 0 because every expectation is met. Against a server that refuses the
 * token it says what to set instead of printing a stack trace.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../app/free-port';
import { startTestStack, type TestStack } from '../helpers/stack';

const root = path.join(import.meta.dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const run = promisify(execFile);

describe('drill run CLI', () => {
  it(
    'boots an embedded stack when no Firebreak answers, shows the drill as it plays, and exits 0 with the report path',
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
      const { stdout } = await run(
        tsx,
        ['cli/index.ts', 'drill', 'run', 'drills/agent-config-tampering.yaml', '--auto', '--speed', '60'],
        { cwd: root, env, timeout: 170_000 },
      );
      const lines = stdout.split('\n');
      // The timing comes first: the injects span 6m, 6s at speed 60; the time limit is 8h.
      expect(lines[0]).toMatch(
        /^Drill config-tampering-system-prompt plays at speed 60: .*span 6m .*\(6s here\)/,
      );
      expect(lines[0]).toMatch(/time limit of 8h \(8m here\)/);
      // Then the exercise as it happens (not a TTY: plain lines), before the verdict.
      const verdict = lines.findIndex((l) => /^Drill \S+ (passed|failed)$/.test(l));
      const played = lines.slice(1, verdict);
      const at = (re: RegExp) => played.findIndex((l) => re.test(l));
      // An inject is stamped with its scheduled time, so it shows at its own offset.
      expect(at(/^ {2}T\+2m\s+drill\.inject\s+Inject at 2m: event/)).toBeGreaterThan(-1);
      expect(at(/^ {2}T\+[\dmhs ]+drill\.inject\s+Inject at 6m: message/)).toBeGreaterThan(
        at(/drill\.inject\s+Inject at 2m/),
      );
      expect(at(/^ {2}T\+[\dmhs ]+approval\.approved\s/)).toBeGreaterThan(-1);
      expect(at(/^ {2}T\+[\dmhs ]+step\.succeeded\s/)).toBeGreaterThan(-1);
      expect(played.some((l) => l.includes('\x1b'))).toBe(false);

      const reportPath = /Report: (\S+)/.exec(stdout)?.[1];
      expect(lines[verdict]).toContain('passed');
      expect(reportPath).toBeDefined();
      expect(fs.readFileSync(reportPath!, 'utf8')).toContain('**PASSED**');
    },
  );

  describe('against a Firebreak that refuses the token', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack({ withWorker: false });
    });
    afterAll(async () => {
      await stack.close();
    });

    it.each([
      ['an unknown token', 'not-a-token-of-this-server', /it does not know the token in FIREBREAK_TOKEN/],
      ['no token', '', /no token was sent/],
    ])('with %s: prints the cause and FIREBREAK_TOKEN, no stack trace, exit 1', async (_, token, cause) => {
      const env: NodeJS.ProcessEnv = { ...process.env, FIREBREAK_URL: stack.url, FIREBREAK_TOKEN: token };
      delete env.FIREBREAK_ADMIN_TOKEN;
      const err = (await run(tsx, ['cli/index.ts', 'drill', 'run', 'drills/agent-config-tampering.yaml'], {
        cwd: root,
        env,
        timeout: 60_000,
      }).catch((e: unknown) => e)) as { code: number; stderr: string };
      expect(err.code).toBe(1);
      expect(err.stderr).toContain(`Firebreak at ${stack.url} refused POST /v1/drills (401 Unauthorized)`);
      expect(err.stderr).toMatch(cause);
      expect(err.stderr).toContain('Set FIREBREAK_TOKEN');
      expect(err.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
