/**
 * The workflow bundle, built in a short-lived child process. Bundling in the worker itself leaves
 * webpack's ~130 MiB in the long-running process for good (RSS 126 → 253 MiB measured); a child
 * returns it to the OS when it exits. Built at every start, so it always matches the code.
 *
 * Run directly (`node --import tsx temporal/bundle.ts <out.js>`) it writes the bundle and exits.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { projectRoot } from './cli-binary';
import { workflowsPath } from './worker';

const self = fileURLToPath(import.meta.url);

/** Bundles workflows/ into `outFile` in a child process; rejects with the child's output. */
export async function bundleInChild(outFile: string): Promise<string> {
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', self, outFile], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bundling the workflows failed (exit ${code}):\n${out}`);
  return outFile;
}

if (process.argv[1] === self) {
  const outFile = process.argv[2];
  if (!outFile) {
    console.error('usage: node --import tsx temporal/bundle.ts <out.js>');
    process.exit(2);
  }
  const { code } = await bundleWorkflowCode({ workflowsPath });
  fs.writeFileSync(outFile, code);
}
