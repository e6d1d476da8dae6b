/**
 * Signing keys: one Ed25519 key per purpose, created once 0600 in a 0700 directory outside
 * DATA_DIR, stable across loads, refused when other users can read it, and never shared between
 * purposes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config';
import { KeyError, loadOrCreateSigningKey, sign, verify } from '../../app/keys';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-keys-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('signing keys', () => {
  it('creates a key per purpose once, owner-only, and loads the same key again', () => {
    const dir = path.join(root, 'a', 'keys');
    const first = loadOrCreateSigningKey(dir, 'decision');
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(first.file).mode & 0o777).toBe(0o600);
    const again = loadOrCreateSigningKey(dir, 'decision');
    expect(again.kid).toBe(first.kid);
    expect(again.publicKeyRaw.equals(first.publicKeyRaw)).toBe(true);
    const audit = loadOrCreateSigningKey(dir, 'audit');
    expect(audit.kid).not.toBe(first.kid);
    const sig = sign(first, 'approve step contain');
    expect(sig).toHaveLength(64);
    expect(verify(first.publicKeyRaw, 'approve step contain', sig)).toBe(true);
    expect(verify(first.publicKeyRaw, 'approve step contain!', sig)).toBe(false);
    expect(verify(audit.publicKeyRaw, 'approve step contain', sig)).toBe(false);
  });

  it('refuses a key file other users can read, and a key directory it cannot create', () => {
    const dir = path.join(root, 'b');
    const key = loadOrCreateSigningKey(dir, 'status');
    fs.chmodSync(key.file, 0o644);
    expect(() => loadOrCreateSigningKey(dir, 'status')).toThrow(/readable by other users/);
    const blocked = path.join(root, 'file');
    fs.writeFileSync(blocked, '');
    expect(() => loadOrCreateSigningKey(path.join(blocked, 'keys'), 'audit')).toThrow(KeyError);
    expect(() => loadOrCreateSigningKey(path.join(blocked, 'keys'), 'audit')).toThrow(/FIREBREAK_KEY_DIR/);
  });

  it('keeps the keys outside DATA_DIR by default, one directory per install', () => {
    const env = { DATA_DIR: path.join(root, 'data1'), XDG_CONFIG_HOME: path.join(root, 'xdg') };
    const a = loadConfig(env);
    const b = loadConfig({ ...env, DATA_DIR: path.join(root, 'data2') });
    expect(a.keyDir.startsWith(path.join(root, 'xdg', 'firebreak', 'keys'))).toBe(true);
    expect(path.relative(a.dataDir, a.keyDir).startsWith('..')).toBe(true);
    expect(a.keyDir).not.toBe(b.keyDir);
    expect(loadConfig({ ...env, FIREBREAK_KEY_DIR: path.join(root, 'mine') }).keyDir).toBe(
      path.join(root, 'mine'),
    );
  });
});
