/**
 * A real Arize Phoenix for integration tests: `phoenix serve` from the pinned venv
 * (.test-services/phoenix-venv, scripts/provision.d/phoenix.sh) on SQLite in a temp working dir,
 * on loopback free ports, offline and with its telemetry off. Waits for /healthz; fails (never
 * skips) saying what to run when the venv is missing or the server does not come up.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../app/free-port';

export const PHOENIX_VENV = path.resolve(import.meta.dirname, '../../.test-services/phoenix-venv');

export interface LocalPhoenix {
  url: string;
  /** The OTLP/HTTP traces endpoint (protobuf). */
  otlpTracesUrl: string;
  stop(): Promise<void>;
}

export async function startPhoenix(): Promise<LocalPhoenix> {
  const bin = path.join(PHOENIX_VENV, 'bin', 'phoenix');
  if (!fs.existsSync(bin))
    throw new Error(
      `Phoenix not found at ${bin}: run scripts/provision-test-services.sh (or bash scripts/provision.d/phoenix.sh), ` +
        'which installs arize-phoenix==20.26.1 into .test-services/phoenix-venv',
    );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-phoenix-'));
  const [port, grpcPort] = [await freePort(), await freePort()];
  const child = spawn(bin, ['serve'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      PHOENIX_HOST: '127.0.0.1',
      PHOENIX_PORT: String(port),
      PHOENIX_GRPC_PORT: String(grpcPort),
      PHOENIX_WORKING_DIR: dir,
      PHOENIX_SQL_DATABASE_URL: `sqlite:///${path.join(dir, 'phoenix.db')}`,
      PHOENIX_TELEMETRY_ENABLED: 'false',
      DO_NOT_TRACK: '1',
      HF_HUB_OFFLINE: '1',
    },
  });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`phoenix serve exited (${child.exitCode}): ${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`phoenix serve did not answer ${url}/healthz within 120 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    otlpTracesUrl: `${url}/v1/traces`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
