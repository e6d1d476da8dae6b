#!/usr/bin/env node
// A `node-gyp` on the PATH of dependency install scripts (it is linked into node_modules/.bin,
// which npm puts ahead of its bundled copy). Without a nodedir, node-gyp downloads the headers
// for the running node from nodejs.org, which fails on machines that reach only package
// registries. Node installs its headers under <prefix>/include/node, so point node-gyp there,
// then hand over to npm's own node-gyp unchanged.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node.h'))) {
  process.env.npm_config_nodedir = prefix;
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
