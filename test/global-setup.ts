/**
 * One real Temporal dev server for the whole test run, from the binary `npm install` provisioned
 * (a missing binary fails the run loudly), plus one workflow bundle shared by every test file.
 * Test files get the address and bundle path through vitest's inject(). With
 * FIREBREAK_TEST_DATABASE=postgres it also starts a throwaway PostgreSQL cluster on loopback, and
 * every test stack runs on a fresh database of it (test/helpers/stack.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { findTemporalCli } from '../temporal/cli-binary';
import { workflowsPath } from '../temporal/worker';
import { startPostgres } from './integration/services';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCli: string;
    workflowBundlePath: string;
    /** With FIREBREAK_TEST_DATABASE=postgres: the cluster stacks create their databases on. */
    postgresAdminUrl: string | undefined;
  }
}

export default async function setup(project: TestProject) {
  const cli = findTemporalCli(process.env.TEMPORAL_CLI);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      ip: '127.0.0.1',
      extraArgs: ['--log-level', 'error'],
    },
  });
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} },
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-bundle-'));
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, code);
  project.provide('temporalAddress', env.address);
  project.provide('temporalCli', cli);
  project.provide('workflowBundlePath', bundlePath);
  const postgres = process.env.FIREBREAK_TEST_DATABASE === 'postgres' ? await startPostgres() : undefined;
  project.provide('postgresAdminUrl', postgres?.adminUrl);
  return async () => {
    await postgres?.stop();
    await env.teardown();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
