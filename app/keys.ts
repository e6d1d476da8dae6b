/**
 * Firebreak's signing keys: one Ed25519 key pair per purpose (decisions, the audit chain, agent
 * status documents), each in its own file, so that one leaked or rotated key never touches the
 * others. They live in FIREBREAK_KEY_DIR, outside DATA_DIR by default
 * (`$XDG_CONFIG_HOME/firebreak/keys/<install id>`, else `~/.config/…`): whoever can write DATA_DIR
 * (the DB, the Temporal DB) cannot also sign as Firebreak. A key is generated on first use, 0600
 * in a 0700 directory; a read-only key directory (a mounted Secret) must already hold it. Only the
 * public half ever leaves this module in a form meant to be shared (`publicKeyRaw`, `kid`).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type KeyPurpose = 'decision' | 'audit' | 'status';

export interface SigningKey {
  purpose: KeyPurpose;
  /** Key id: the first 16 hex digits of the SHA-256 of the raw public key (stable, shareable). */
  kid: string;
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
  /** The 32-byte raw Ed25519 public key. */
  publicKeyRaw: Buffer;
  file: string;
}

/** The default key directory of the install whose data lives in `dataDir`. */
export function defaultKeyDir(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== ''
      ? env.XDG_CONFIG_HOME
      : path.join(os.homedir(), '.config');
  const install = crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12);
  return path.join(base, 'firebreak', 'keys', install);
}

export class KeyError extends Error {
  override name = 'KeyError';
}

/** A SigningKey from a private key already in memory (`file` names where it came from). */
export function signingKeyFrom(purpose: KeyPurpose, file: string, privateKey: crypto.KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new KeyError(`${file} is not an Ed25519 private key`);
  const publicKey = crypto.createPublicKey(privateKey);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const publicKeyRaw = Buffer.from(spki.subarray(spki.length - 32));
  const kid = crypto.createHash('sha256').update(publicKeyRaw).digest('hex').slice(0, 16);
  return { purpose, kid, privateKey, publicKey, publicKeyRaw, file };
}

/** Loads `<keyDir>/<purpose>-signing.pem`, creating it (and the directory, 0700) on first use. */
export function loadOrCreateSigningKey(keyDir: string, purpose: KeyPurpose): SigningKey {
  const file = path.join(keyDir, `${purpose}-signing.pem`);
  if (fs.existsSync(file)) {
    const mode = fs.statSync(file).mode & 0o077;
    if (mode !== 0) throw new KeyError(`${file} is readable by other users: chmod 600 it`);
    let key: crypto.KeyObject;
    try {
      key = crypto.createPrivateKey(fs.readFileSync(file));
    } catch (err) {
      throw new KeyError(`${file} is not a PEM private key: ${(err as Error).message}`, { cause: err });
    }
    return signingKeyFrom(purpose, file, key);
  }
  try {
    fs.mkdirSync(keyDir, { recursive: true, mode: 0o700 });
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
    // `wx`: two processes starting at once never overwrite each other's fresh key.
    fs.writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return loadOrCreateSigningKey(keyDir, purpose);
    throw new KeyError(
      `cannot create ${file} (${code ?? (err as Error).message}): set FIREBREAK_KEY_DIR to a writable directory, or put the key there`,
      { cause: err },
    );
  }
  return loadOrCreateSigningKey(keyDir, purpose);
}

/** Ed25519 signature of `data` (64 bytes). */
export function sign(key: SigningKey, data: Buffer | string): Buffer {
  return crypto.sign(null, Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), key.privateKey);
}

/** Checks an Ed25519 signature against a raw 32-byte public key. */
export function verify(publicKeyRaw: Buffer, data: Buffer | string, signature: Buffer): boolean {
  const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');
  const publicKey = crypto.createPublicKey({
    key: Buffer.concat([spkiPrefix, publicKeyRaw]),
    format: 'der',
    type: 'spki',
  });
  return crypto.verify(null, Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), publicKey, signature);
}
