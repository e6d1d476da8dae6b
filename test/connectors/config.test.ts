import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { ConfigError, loadConfig } from '../../app/config';
import { actionContracts, missingConnectors } from '../../connectors/contract';
import { buildLiveConnectors, lazyLiveConnectors } from '../../connectors/registry';
import { openDb } from '../../db/client';
import { ACTION_NAMES } from '../../domain/actions';

describe('connector configuration', () => {
  it('is parsed with the rest of the configuration: env first, then the connectors section of the config file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-cfg-'));
    const file = path.join(dir, 'firebreak.yaml');
    fs.writeFileSync(
      file,
      [
        'connectors:',
        '  postgres: { admin_url: "postgres://admin:pw@db.internal/postgres" }',
        '  aws: { region: eu-west-1 }',
        '  http_systems:',
        '    - name: billing',
        '      base_url: https://billing.internal',
        '      secret: 0123456789abcdef0123',
        '      restrict: { path: "/agents/{name}/restrict" }',
        '      check: { path: "/agents/{name}" }',
      ].join('\n'),
    );
    const env = { DATA_DIR: dir, FIREBREAK_CONFIG: file, PORT: '4000' };
    const c = loadConfig({ ...env, FIREBREAK_AWS_ENDPOINT: 'http://127.0.0.1:5000' }).connectors;
    expect(c).toMatchObject({
      pgAdminUrl: 'postgres://admin:pw@db.internal/postgres',
      aws: { endpoint: 'http://127.0.0.1:5000', region: 'eu-west-1' },
      statusBaseUrl: 'http://127.0.0.1:4000',
      httpSystems: [{ name: 'billing' }],
    });
    expect(
      loadConfig({ ...env, FIREBREAK_PG_ADMIN_URL: 'postgres://a:b@other/x' }).connectors.pgAdminUrl,
    ).toBe('postgres://a:b@other/x');
    expect(() => loadConfig({ ...env, FIREBREAK_AWS_ENDPOINT: 'not a url' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, FIREBREAK_AWS_ENDPOINT: 'not a url' })).toThrow(
      /FIREBREAK_AWS_ENDPOINT/,
    );
    fs.writeFileSync(file, 'connectors:\n  http_systems:\n    - name: Bad Name\n');
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/connectors\.http_systems\.0\.name/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('configures OPA from FIREBREAK_OPA_URL / FIREBREAK_OPA_TOKEN or connectors.opa, env first', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-cfg-'));
    const file = path.join(dir, 'firebreak.yaml');
    const env = { DATA_DIR: dir, FIREBREAK_CONFIG: file };
    fs.writeFileSync(file, 'connectors: {}\n');
    expect(loadConfig(env).connectors.opa).toBeUndefined();
    fs.writeFileSync(
      file,
      'connectors:\n  opa: { url: "http://opa.internal:8181", token: file-token-0123, sync_interval_seconds: 5 }\n',
    );
    expect(loadConfig(env).connectors.opa).toEqual({
      url: 'http://opa.internal:8181',
      token: 'file-token-0123',
      timeout_ms: 5000,
      sync_interval_seconds: 5,
    });
    const over = loadConfig({
      ...env,
      FIREBREAK_OPA_URL: 'http://127.0.0.1:9181',
      FIREBREAK_OPA_TOKEN: 'env-token-0123',
    });
    expect(over.connectors.opa).toMatchObject({ url: 'http://127.0.0.1:9181', token: 'env-token-0123' });
    fs.writeFileSync(file, 'connectors: {}\n');
    expect(loadConfig({ ...env, FIREBREAK_OPA_URL: 'http://127.0.0.1:9181' }).connectors.opa).toEqual({
      url: 'http://127.0.0.1:9181',
    });
    expect(() => loadConfig({ ...env, FIREBREAK_OPA_URL: 'opa' })).toThrow(/FIREBREAK_OPA_URL/);
    fs.writeFileSync(file, 'connectors:\n  opa: { url: "http://opa.internal:8181", timeout_ms: -1 }\n');
    expect(() => loadConfig(env)).toThrow(/connectors\.opa\.timeout_ms/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('builds live connectors once, on first use', () => {
    let builds = 0;
    const live = lazyLiveConnectors(() => {
      builds += 1;
      return {};
    });
    expect(builds).toBe(0);
    live();
    live();
    expect(builds).toBe(1);
  });
});

describe('action contracts', () => {
  it('declare input and output schemas, mutation, verification and undo for every catalog action', () => {
    const all = actionContracts();
    expect(all.map((c) => c.name)).toEqual(ACTION_NAMES);
    const disable = all.find((c) => c.name === 'agent.disable')!;
    expect(disable).toMatchObject({ mutates: true, undo: 'agent.enable' });
    expect((disable.input as any).required).toEqual(['agent_id']);
    expect((disable.output as any).properties.status.enum).toEqual(['enabled', 'disabled']);
    expect(all.find((c) => c.name === 'evidence.collect')).toMatchObject({ mutates: false, undo: undefined });
    for (const c of all) expect(c.verification.length).toBeGreaterThan(10);
  });

  it('report which actions a configuration cannot run live', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-live-'));
    const db = openDb(path.join(dir, 'firebreak.db'));
    const config = loadConfig({ DATA_DIR: dir }).connectors;
    const live = buildLiveConnectors({
      db,
      statusKeys: { keys: [] },
      statusToken: () => Promise.resolve('unused'),
      config,
    });
    // Every action has a handler; providers that are not configured fail when used, naming them.
    expect(missingConnectors(live)).toEqual([]);
    expect(missingConnectors({ notify: live.notify }, ['notify', 'agent.disable'])).toEqual([
      'agent.disable',
    ]);
    const acts = createActivities({ db, liveConnectors: () => live });
    const err = await acts
      .executeAction({
        incidentId: 'i',
        stepId: 's',
        action: 'access.restrict',
        params: { agent_id: 'a', resource: 'postgres:reporting' },
        mode: 'live',
        actor: 't',
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      nonRetryable: true,
      message: expect.stringMatching(/no connector is configured for postgres/),
    });
    db.$client.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
