import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig } from '../../app/config';
import { MIN_TOKEN_LENGTH, parseFileConfig, sha256Hex } from '../../app/config-file';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-config-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function withFile(yaml: string, env: Record<string, string> = {}) {
  const file = path.join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, yaml);
  return () => loadConfig({ DATA_DIR: dir, FIREBREAK_CONFIG: file, ...env });
}

describe('the config file', () => {
  it('accepts the example in docs/config.md', () => {
    const md = fs.readFileSync(path.join(import.meta.dirname, '../../docs/config.md'), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(md)![1]!;
    const env = {
      PROMETHEUS_WEBHOOK_SECRET: 'prom-secret-0123456789',
      PD_ROUTING_KEY: 'pd-routing-key-0123456789',
      PD_BRIDGE_SECRET: 'pd-bridge-secret-0123456789',
      EDR_WEBHOOK_SECRET: 'edr-webhook-secret-0123456789',
      PAYMENTS_SIEM_SECRET: 'payments-siem-secret-0123456789',
      ALICE_API_TOKEN: 'alice-token-0123456789',
      SUPPORT_BOT_RUNTIME_TOKEN: 'support-bot-runtime-0123456789',
      FIREBREAK_DECISION_LOG_TOKEN: 'decision-log-token-0123456789',
    };
    const f = parseFileConfig(parseYaml(yaml), env, 'docs/config.md');
    expect(f.opaDecisionLogs.senders).toEqual([
      { name: 'gateway-opa', sha256: sha256Hex(env.FIREBREAK_DECISION_LOG_TOKEN) },
    ]);
    expect(f.sources.map((s) => s.id)).toEqual([
      'default',
      'prometheus',
      'pagerduty-bridge',
      'edr',
      'payments-siem',
    ]);
    expect(f.sources.map((s) => s.requireSignature)).toEqual([false, false, false, true, false]);
    expect(f.sources[4]).toMatchObject({
      scope: { agents: ['agent-7'], teams: ['payments'], environments: ['staging'] },
      maxSeverity: 'high',
      confirmApprovers: { users: [], groups: [], roles: ['incident_commander'] },
    });
    expect(f.sources[1]).toMatchObject({
      secret: env.PROMETHEUS_WEBHOOK_SECRET,
      alertmanagerKey: 'fingerprint',
    });
    expect(f.sources[2]).toMatchObject({ routingKey: env.PD_ROUTING_KEY, secret: env.PD_BRIDGE_SECRET });
    expect(f.rules[0]).toMatchObject({ group_by: 'agent_id', window: 15 * 60_000, on_resolved: 'resolve' });
    expect(f.users[0]!.tokens).toEqual([
      { sha256: sha256Hex(env.ALICE_API_TOKEN), scopes: ['read', 'respond'] },
      {
        sha256: sha256Hex('example-read-token-0123456789abcdef'),
        scopes: ['read'],
        expiresAtMs: Date.parse('2027-01-31T00:00:00Z'),
      },
    ]);
    expect(JSON.stringify(f.users)).not.toContain(env.ALICE_API_TOKEN);
    expect(f.runtimes).toEqual({
      tokens: [
        { name: 'support-bot', sha256: sha256Hex(env.SUPPORT_BOT_RUNTIME_TOKEN), agents: ['support-bot'] },
      ],
      rateLimit: { perSecond: 50, burst: 200 },
      refusedRateLimit: { perSecond: 1, burst: 10 },
    });
  });

  it('refuses runtime tokens that are short, named twice, or scoped to no agent, naming the field', () => {
    const token = (name: string, agents: string) =>
      `  - name: ${name}\n    token_env: RT\n    agents: ${agents}\n`;
    expect(withFile(`runtimes:\n  tokens:\n${token('a', '[x]')}`, { RT: 'short' })).toThrow(
      /runtimes\.tokens\.0\.token_env: the token in RT has 5 characters; runtime tokens need at least 16/,
    );
    const rt = { RT: 'runtime-token-0123456789' };
    expect(withFile(`runtimes:\n  tokens:\n${token('a', '[x]')}${token('a', '[y]')}`, rt)).toThrow(
      /runtimes\.tokens: name a appears twice/,
    );
    expect(withFile(`runtimes:\n  tokens:\n${token('a', '[]')}`, rt)).toThrow(/runtimes\.tokens\.0\.agents/);
  });

  it('refuses user tokens shorter than 16 characters, naming the field, not the token', () => {
    const users = (token_env: string) => ({
      users: [{ id: 'u', name: 'U', tokens: [{ token_env, scopes: ['read'] }] }],
    });
    const short = 'fifteen-chars-x';
    expect(short).toHaveLength(MIN_TOKEN_LENGTH - 1);
    const load = () => parseFileConfig(users('SHORT_TOKEN'), { SHORT_TOKEN: short }, 'test');
    expect(load).toThrow(
      /users\.0\.tokens\.0\.token_env: the token in SHORT_TOKEN has 15 characters; API tokens need at least 16/,
    );
    expect(load).not.toThrow(new RegExp(short));
    const ok = parseFileConfig(users('OK_TOKEN'), { OK_TOKEN: `${short}y` }, 'test');
    expect(ok.users[0]!.tokens).toEqual([{ sha256: sha256Hex(`${short}y`), scopes: ['read'] }]);
  });

  it('reads expires_at as an instant with its offset, and refuses anything else naming the field', () => {
    const withExpiry = (expires_at: unknown) => ({
      users: [
        {
          id: 'u',
          name: 'U',
          tokens: [{ token_sha256: sha256Hex('x'.repeat(32)), scopes: ['read'], expires_at }],
        },
      ],
    });
    const at = (expires_at: unknown) =>
      parseFileConfig(withExpiry(expires_at), {}, 'test').users[0]!.tokens[0];
    expect(at('2027-01-31T12:00:00Z')).toMatchObject({ expiresAtMs: Date.parse('2027-01-31T12:00:00Z') });
    expect(at('2027-01-31T14:00:00+02:00')).toMatchObject({
      expiresAtMs: Date.parse('2027-01-31T12:00:00Z'),
    });
    // A YAML 1.1 timestamp arrives as a Date.
    expect(at(new Date('2027-01-31T12:00:00Z'))).toMatchObject({
      expiresAtMs: Date.parse('2027-01-31T12:00:00Z'),
    });
    for (const bad of ['2027-01-31', 'next tuesday', '2027-01-31T12:00:00', 1801396800]) {
      expect(() => at(bad)).toThrow(/users\.0\.tokens\.0\.expires_at: an ISO 8601 date-time with offset/);
    }
    // Through the file, as operators write it.
    const config = withFile(
      'users:\n  - id: u\n    name: U\n    tokens:\n      - token_env: T\n        scopes: [read]\n        expires_at: 2027-01-31T12:00:00Z\n',
      { T: 'token-0123456789abcdef' },
    )();
    expect(config.file.users[0]!.tokens[0]!.expiresAtMs).toBe(Date.parse('2027-01-31T12:00:00Z'));
  });

  it('is loaded through FIREBREAK_CONFIG with secrets from the environment', () => {
    const config = withFile('sources:\n  - id: edr\n    secret_env: EDR_SECRET\n', {
      EDR_SECRET: 'edr-secret-0123456789',
    })();
    expect(config.file.sources[0]).toMatchObject({ id: 'edr', secret: 'edr-secret-0123456789' });
  });

  it('fails start-up naming the field when a secret variable is unset, without printing secrets', () => {
    const load = withFile(
      'sources:\n  - id: edr\n    secret_env: EDR_SECRET\n  - id: x\n    secret: inline-secret-0123456789\n',
    );
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/sources\.0\.secret_env: environment variable EDR_SECRET is not set/);
    expect(() => load()).not.toThrow(/inline-secret/);
  });

  it('rejects unknown keys, a window without group_by, and ambiguous tokens', () => {
    expect(withFile('sources:\n  - id: a\n    secret: s-0123456789abcdef\n    colour: red\n')).toThrow(
      /colour/,
    );
    expect(withFile('rules:\n  - window: 5m\n')).toThrow(/rules\.0\.window: needs group_by/);
    expect(
      withFile(
        `users:\n  - id: u\n    name: U\n    tokens:\n      - token_env: T\n        token_sha256: ${sha256Hex('x')}\n        scopes: [read]\n`,
        { T: 'token-0123456789' },
      ),
    ).toThrow(/exactly one of token_env, token_sha256/);
    expect(withFile('sources: [\n')).toThrow(/not valid YAML/);
    expect(() => loadConfig({ DATA_DIR: dir, FIREBREAK_CONFIG: path.join(dir, 'missing.yaml') })).toThrow(
      /cannot read/,
    );
  });
});
