import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultTaskQueue, loadConfig } from '../../app/config';
import { loadCredentials } from '../../app/credentials';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 3000, logLevel: 'info' });
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(c.temporal).toMatchObject({
      address: undefined,
      namespace: 'default',
      taskQueue: defaultTaskQueue(path.resolve('./data')),
      devPort: 7233,
    });
  });

  it('gives each install (DATA_DIR) its own task queue unless TEMPORAL_TASK_QUEUE names one', () => {
    const a = loadConfig({ DATA_DIR: '/srv/firebreak-a' }).temporal.taskQueue;
    const b = loadConfig({ DATA_DIR: '/srv/firebreak-b' }).temporal.taskQueue;
    expect(a).toMatch(/^firebreak-[0-9a-f]{12}$/);
    expect(b).not.toBe(a);
    expect(loadConfig({ DATA_DIR: '/srv/firebreak-a/../firebreak-a' }).temporal.taskQueue).toBe(a);
    expect(
      loadConfig({ DATA_DIR: '/srv/firebreak-a', TEMPORAL_TASK_QUEUE: 'shared' }).temporal.taskQueue,
    ).toBe('shared');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ FIREBREAK_ADMIN_TOKEN: 'short' }, 'FIREBREAK_ADMIN_TOKEN'],
    [{ TEMPORAL_TLS: 'maybe' }, 'TEMPORAL_TLS'],
    [{ TEMPORAL_API_KEY: 'k' }, 'TEMPORAL_ADDRESS'],
    [{ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_TLS_CERT_PATH: '/c' }, 'TEMPORAL_TLS_KEY_PATH'],
    [{ FIREBREAK_EVIDENCE_URL: 'https://bucket/x' }, 'FIREBREAK_EVIDENCE_URL'],
    [{ FIREBREAK_EVIDENCE_URL: 's3://Bad_Bucket/x' }, 'FIREBREAK_EVIDENCE_URL'],
    [{ FIREBREAK_EVIDENCE_S3_ENDPOINT: 'http://127.0.0.1:9000' }, 'FIREBREAK_EVIDENCE_URL'],
    [
      { FIREBREAK_EVIDENCE_URL: 's3://b1/x', FIREBREAK_EVIDENCE_S3_ENDPOINT: 'nope' },
      'FIREBREAK_EVIDENCE_S3_ENDPOINT',
    ],
  ])('rejects %j naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it('keeps evidence in DATA_DIR/evidence unless FIREBREAK_EVIDENCE_URL names a bucket', () => {
    expect(loadConfig({ DATA_DIR: '/srv/fb' }).evidence).toEqual({ kind: 'local', dir: '/srv/fb/evidence' });
    expect(
      loadConfig({ FIREBREAK_EVIDENCE_URL: 's3://fb-evidence/prod/incidents', AWS_REGION: 'eu-west-1' })
        .evidence,
    ).toEqual({
      kind: 's3',
      bucket: 'fb-evidence',
      prefix: 'prod/incidents/',
      region: 'eu-west-1',
      endpoint: undefined,
      forcePathStyle: false,
    });
    expect(
      loadConfig({
        FIREBREAK_EVIDENCE_URL: 's3://fb-evidence',
        FIREBREAK_EVIDENCE_S3_ENDPOINT: 'http://127.0.0.1:9000',
        FIREBREAK_EVIDENCE_S3_REGION: 'local',
      }).evidence,
    ).toEqual({
      kind: 's3',
      bucket: 'fb-evidence',
      prefix: '',
      region: 'local',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
    });
  });

  it('configures TLS and an API key for Temporal Cloud', () => {
    const c = loadConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: 'key',
    });
    expect(c.temporal.tls).toBeDefined();
    expect(c.temporal.apiKey).toBe('key');
  });

  it('reads the TLS files once, at start, naming the variable of one it cannot read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-tls-'));
    fs.writeFileSync(path.join(dir, 'ca.pem'), 'CA');
    fs.writeFileSync(path.join(dir, 'c.pem'), 'CERT');
    fs.writeFileSync(path.join(dir, 'k.pem'), 'KEY');
    const c = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CA_PATH: path.join(dir, 'ca.pem'),
      TEMPORAL_TLS_CERT_PATH: path.join(dir, 'c.pem'),
      TEMPORAL_TLS_KEY_PATH: path.join(dir, 'k.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal',
    });
    expect(c.temporal.tls).toEqual({
      serverNameOverride: 'temporal',
      serverRootCACertificate: Buffer.from('CA'),
      clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
    });
    const missing = {
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CA_PATH: path.join(dir, 'no.pem'),
    };
    expect(() => loadConfig(missing)).toThrow(ConfigError);
    expect(() => loadConfig(missing)).toThrow(/TEMPORAL_TLS_CA_PATH: cannot read/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('bootstrap credentials', () => {
  it('generates both once, with mode 0600, and keeps them across starts', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-cred-'));
    const a = loadCredentials(dir, { adminToken: undefined, webhookSecret: undefined });
    expect(a.adminToken).toMatch(/^fbk_admin_/);
    expect(a.webhookSecret).toMatch(/^fbk_whsec_/);
    expect(a.generatedFile).toBe(path.join(dir, 'credentials.json'));
    expect(fs.statSync(a.generatedFile!).mode & 0o777).toBe(0o600);
    const b = loadCredentials(dir, { adminToken: undefined, webhookSecret: undefined });
    expect(b).toEqual(a);
  });

  it('prefers the environment and writes nothing when both are set', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-cred-'));
    const c = loadCredentials(dir, { adminToken: 'a'.repeat(20), webhookSecret: 'w'.repeat(20) });
    expect(c.generatedFile).toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'credentials.json'))).toBe(false);
  });
});
