/**
 * Runs Firebreak entry points as real child processes (as a user would), captures their output,
 * and waits for a line. Used by the start-up and crash tests, and by the process benchmarks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../temporal/cli-binary';

export interface Child {
  proc: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
  /** SIGTERM (a clean stop) unless it already exited; resolves once it has. */
  stop(): Promise<void>;
}

/**
 * `nodeArgs` go before the entry, as the npm scripts pass them (e.g. a heap limit, or
 * `--cpu-prof` to profile one process).
 */
export function runEntry(
  entry: string,
  env: Record<string, string>,
  opts: { nodeArgs?: string[] } = {},
): Child {
  // As `npm start` runs it: one node process with tsx as a loader, so signals reach our handlers
  // directly (the `tsx` wrapper re-sends them and SIGKILLs a child that is slow to confirm).
  const args = [...(opts.nodeArgs ?? []), '--import', 'tsx', path.join(projectRoot, entry)];
  const proc = spawn(process.execPath, args, {
    cwd: projectRoot,
    // Keys of a test's install live in its data dir, so nothing is left in ~/.config.
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      ...(env.DATA_DIR ? { FIREBREAK_KEY_DIR: path.join(env.DATA_DIR, 'keys') } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(out);
        if (m) return m;
        if (proc.exitCode !== null)
          throw new Error(`${entry} exited (${proc.exitCode}) before ${pattern}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} from ${entry}:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids under `pid` (Linux /proc), deepest last. */
export function descendants(pid: number): number[] {
  let kids: number[];
  try {
    kids = fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

/**
 * SIGKILLs a runEntry child and everything under it (e.g. the embedded Temporal server), as a
 * machine crash would.
 */
export async function killTree(child: Child): Promise<void> {
  const pid = child.proc.pid;
  if (pid === undefined || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const pids = [...descendants(pid).reverse(), pid];
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await child.exited;
  for (const p of pids) {
    for (let i = 0; i < 100 && isAlive(p); i += 1) await new Promise((r) => setTimeout(r, 20));
  }
}
