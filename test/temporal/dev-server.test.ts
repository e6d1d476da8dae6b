/**
 * The dev server picks ports for its internal services itself, by binding and releasing them, so
 * a start can lose one to another process in between and exit (CI saw it: `listen tcp
 * 127.0.0.1:38573: bind: address already in use`, then `could not build value group
 * *temporal.ServicesMetadata`). Such a start is retried with fresh ports; a bind failure on one of
 * the two ports Firebreak chose is reported as PortInUseError, and anything else fails at once.
 * The CLI here is the real one behind a wrapper that fails the first start(s) the way it fails.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../app/free-port';
import { findTemporalCli } from '../../temporal/cli-binary';
import { PortInUseError, startDevServer } from '../../temporal/dev-server';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A CLI that exits with `failure` on its first `failures` starts, then runs the real server. */
function flakyCli(
  failures: number,
  failure: string,
): { cliPath: string; dataDir: string; starts: () => number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-devrace-'));
  dirs.push(dir);
  const counter = path.join(dir, 'starts');
  const cliPath = path.join(dir, 'temporal');
  fs.writeFileSync(
    cliPath,
    [
      '#!/bin/sh',
      `n=$(cat '${counter}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '${counter}'`,
      `if [ "$n" -le ${failures} ]; then echo '${failure}'; exit 1; fi`,
      `exec '${findTemporalCli()}' "$@"`,
      '',
    ].join('\n'),
    { mode: 0o700 },
  );
  return {
    cliPath,
    dataDir: path.join(dir, 'data'),
    starts: () => Number(fs.readFileSync(counter, 'utf8')),
  };
}

/** Starts the dev server through `cli`, on `port` (default: a free one). */
async function start(cli: { cliPath: string; dataDir: string }, port?: number) {
  return startDevServer({
    ...cli,
    port: port ?? (await freePort()),
    uiPort: await freePort(),
    namespace: 'default',
    persist: false,
  });
}

const bindFailure = (port: number) =>
  `time=2026-12-01T23:05:14.593 level=ERROR msg="failed starting server: ... listen tcp 127.0.0.1:${port}: bind: address already in use"`;

describe('embedded Temporal dev server start', () => {
  it('retries a start that lost one of its internal ports, and runs', async () => {
    const cli = flakyCli(2, bindFailure(38573));
    const server = await start(cli);
    try {
      expect(cli.starts()).toBe(3);
      expect(fs.readFileSync(path.join(cli.dataDir, 'temporal.pid'), 'utf8')).toBe(String(server.pid));
    } finally {
      await server.stop(3000);
    }
    expect(fs.existsSync(path.join(cli.dataDir, 'temporal.pid'))).toBe(false);
  }, 90_000);

  it('reports its own gRPC port taken as PortInUseError, without retrying', async () => {
    const port = await freePort();
    const cli = flakyCli(1, bindFailure(port));
    const err = await start(cli, port).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as PortInUseError).port).toBe(port);
    expect(cli.starts()).toBe(1);
  });

  it('fails at once on any other start-up failure, quoting the log', async () => {
    const cli = flakyCli(5, 'level=ERROR msg="unable to open database file"');
    const err = await start(cli).catch((e: unknown) => e);
    expect(String(err)).toContain('unable to open database file');
    expect(cli.starts()).toBe(1);
  });

  it('gives up after four lost races', async () => {
    const cli = flakyCli(9, bindFailure(38573));
    const err = await start(cli).catch((e: unknown) => e);
    expect(String(err)).toContain('address already in use');
    expect(cli.starts()).toBe(4);
  });
});
