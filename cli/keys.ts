/**
 * `keys init`: creates this install's signing keys (decisions, audit chain, status documents) in
 * FIREBREAK_KEY_DIR ahead of the first start, and prints each key id and public key. A deployment
 * with several processes creates them once this way and hands the directory to every process
 * (e.g. as a Kubernetes Secret: deploy/kubernetes.yaml); keys that exist are kept, never replaced.
 */
import type { Command } from 'commander';
import { loadConfig } from '../app/config';
import { loadOrCreateSigningKey, type KeyPurpose } from '../app/keys';

const PURPOSES: KeyPurpose[] = ['decision', 'audit', 'status'];

export function initKeys(keyDir: string, out: (text: string) => void): void {
  out(`key directory: ${keyDir}\n`);
  for (const purpose of PURPOSES) {
    const key = loadOrCreateSigningKey(keyDir, purpose);
    out(`${purpose}: kid ${key.kid}, public key ${key.publicKeyRaw.toString('base64url')} (${key.file})\n`);
  }
}

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('Signing keys of this install (FIREBREAK_KEY_DIR)');
  keys
    .command('init')
    .description('Create the decision, audit and status keys if missing, and print their public halves')
    .action(() => initKeys(loadConfig().keyDir, (t) => process.stdout.write(t)));
}
