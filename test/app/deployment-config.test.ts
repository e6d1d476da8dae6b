/**
 * The Worker Deployment settings (README, "Upgrading a running deployment"): their defaults, the
 * values the server would refuse, and the derived build id, which follows the workflow code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config';
import { projectRoot } from '../../temporal/cli-binary';
import { buildIdOf, deploymentName, deploymentVersion } from '../../temporal/deployment';

const pkgVersion = (
  JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

describe('worker deployment configuration', () => {
  it('defaults to one deployment per task queue, a derived build id, and routing to itself at start', () => {
    const t = loadConfig({}).temporal;
    expect(t.deployment).toEqual({
      name: undefined,
      buildId: undefined,
      setCurrentOnStart: true,
      adoptOpenIncidents: true,
    });
    expect(deploymentName(t)).toBe(t.taskQueue);
    expect(deploymentName(loadConfig({ TEMPORAL_TASK_QUEUE: 'sec.ops:eu' }).temporal)).toBe('sec-ops-eu');
    // On a cluster, other workers may still run the old build: moving incidents is the operator's.
    expect(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' }).temporal.deployment.adoptOpenIncidents).toBe(
      false,
    );
  });

  it('takes explicit values', () => {
    const t = loadConfig({
      FIREBREAK_DEPLOYMENT_NAME: 'firebreak-eu',
      FIREBREAK_BUILD_ID: '2026.12.1-r3',
      FIREBREAK_SET_CURRENT_VERSION: 'false',
    }).temporal;
    expect(t.deployment).toMatchObject({
      name: 'firebreak-eu',
      buildId: '2026.12.1-r3',
      setCurrentOnStart: false,
    });
    expect(deploymentVersion(t, 'any code')).toEqual({
      deploymentName: 'firebreak-eu',
      buildId: '2026.12.1-r3',
    });
  });

  it.each([
    [{ FIREBREAK_DEPLOYMENT_NAME: 'fire.break' }, 'FIREBREAK_DEPLOYMENT_NAME'],
    [{ FIREBREAK_DEPLOYMENT_NAME: 'fire:break' }, 'FIREBREAK_DEPLOYMENT_NAME'],
    [{ FIREBREAK_BUILD_ID: 'a:b' }, 'FIREBREAK_BUILD_ID'],
    [{ FIREBREAK_SET_CURRENT_VERSION: 'sometimes' }, 'FIREBREAK_SET_CURRENT_VERSION'],
  ])('rejects %j naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it('derives the build id from the package version and the workflow bundle', () => {
    const a = buildIdOf('bundle A');
    expect(a).toMatch(new RegExp(`^${pkgVersion.replace(/\./g, '\\.')}\\+[0-9a-f]{12}$`));
    expect(buildIdOf('bundle A')).toBe(a);
    expect(buildIdOf('bundle B')).not.toBe(a);
    const t = loadConfig({}).temporal;
    expect(deploymentVersion(t, 'bundle A')).toEqual({ deploymentName: t.taskQueue, buildId: a });
  });
});
