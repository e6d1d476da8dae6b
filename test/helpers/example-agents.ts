/**
 * Runs the example agents (examples/agents/typescript, examples/agents/python) as real processes
 * and follows their JSON lines: a test or benchmark waits for events (a step, the stop) and reads
 * their times. The Python agent runs with the venv scripts/provision-test-services.sh and
 * scripts/provision.d/agents.sh provision; a missing venv or package fails saying so, never skips.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const VENV = path.join(ROOT, '.test-services', 'openfeature-venv');
const PYTHON_PINS = [
  'openfeature-sdk==0.10.0',
  'openfeature-provider-ofrep==0.3.0',
  'cryptography==50.0.2',
  'mcp==1.30.0',
  'opentelemetry-sdk==1.45.2',
  'opentelemetry-exporter-otlp-proto-http==1.45.2',
];

export type AgentLanguage = 'typescript' | 'python';

export interface AgentEvent {
  t: string;
  agent: string;
  event: string;
  [k: string]: unknown;
}

export interface ExampleAgent {
  id: string;
  language: AgentLanguage;
  events: AgentEvent[];
  /** The first event (already seen or still to come) that matches. */
  waitFor(pred: (e: AgentEvent) => boolean, what: string, timeoutMs?: number): Promise<AgentEvent>;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  output(): string;
  /** Whether the process still runs. */
  alive(): boolean;
  stop(): Promise<void>;
}

/** The venv's python, after checking it holds every pinned package of the Python agent. */
export function agentPython(): string {
  const python = path.join(VENV, 'bin', 'python');
  const install = `run scripts/provision-test-services.sh (it creates ${VENV} and runs scripts/provision.d/agents.sh)`;
  if (!fs.existsSync(python)) throw new Error(`no Python agent venv at ${VENV}: ${install}`);
  const check =
    'import sys\nfrom importlib.metadata import version, PackageNotFoundError\n' +
    'def ok(p):\n  n, v = p.split("==")\n  try: return version(n) == v\n  except PackageNotFoundError: return False\n' +
    'print(" ".join(p for p in sys.argv[1:] if not ok(p)))';
  const bad = execFileSync(python, ['-c', check, ...PYTHON_PINS], { encoding: 'utf8' }).trim();
  if (bad) throw new Error(`the Python agent venv lacks ${bad}: ${install}`);
  return python;
}

export function startExampleAgent(language: AgentLanguage, env: Record<string, string>): ExampleAgent {
  const [cmd, args] =
    language === 'typescript'
      ? [process.execPath, ['--import', 'tsx', path.join(ROOT, 'examples/agents/typescript/agent.ts')]]
      : [agentPython(), ['-u', path.join(ROOT, 'examples/agents/python/agent.py')]];
  const child: ChildProcess = spawn(cmd, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: AgentEvent[] = [];
  let out = '';
  const waiters = new Set<() => void>();
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    out = (out + line + '\n').slice(-40_000);
    try {
      events.push(JSON.parse(line) as AgentEvent);
    } catch {
      return;
    }
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-40_000)));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      for (const w of waiters) w();
      resolve(code);
    }),
  );
  const id = env.AGENT_ID!;
  return {
    id,
    language,
    events,
    exited,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    waitFor(pred, what, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => done(new Error(`${language} agent ${id}: no ${what} in ${timeoutMs} ms`)),
          timeoutMs,
        );
        const done = (err?: Error, e?: AgentEvent) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(new Error(`${err.message}\n${out}`));
          else resolve(e!);
        };
        const check = () => {
          const e = events.find(pred);
          if (e) return done(undefined, e);
          if (child.exitCode !== null || child.signalCode !== null)
            done(new Error(`${language} agent ${id} exited (${child.exitCode}) before ${what}`));
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
