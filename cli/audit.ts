/**
 * `audit verify` and `audit export`. Verify walks the audit log and exits non-zero naming the
 * first entry that was modified, removed, reordered, re-chained or not signed by the audit key;
 * with `--head` it also checks the chain against a head exported earlier (entries cut off the
 * end since then). Export writes the chain head as JSON for a system outside DATA_DIR to keep.
 * Verification needs only the audit key's public half (`--public-key`, else the key directory).
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { auditVerifier, loadAuditKey } from '../app/audit-key';
import { loadConfig } from '../app/config';
import { auditChainHead, verifyAuditChain } from '../db/audit';
import type { AuditVerifier } from '../db/audit-signer';
import { closeDb, openDatabase, type Db } from '../db/client';
import { AUDIT_HEAD_FORMAT, AuditHeadExport } from '../domain/audit-head';
import { CliError } from './cli-error';

export interface AuditCliDeps {
  /** Opens the database read-side (no signer needed: these commands never append). */
  open: () => Db | Promise<Db>;
  /** The audit key's public half, from the install's key directory. */
  verifier: () => AuditVerifier;
  out: (text: string) => void;
  err: (text: string) => void;
  setExitCode: (code: number) => void;
}

const defaultDeps: AuditCliDeps = {
  open: () => openDatabase(loadConfig()),
  verifier: () => loadAuditKey(loadConfig().keyDir).verifier,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

function readHeadFile(file: string): AuditHeadExport {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read the exported head ${file}: ${(err as Error).message}`);
  }
  const parsed = AuditHeadExport.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`${file} is not an exported audit head: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

function verifierFrom(publicKey: string | undefined, deps: AuditCliDeps): AuditVerifier {
  return publicKey ? auditVerifier(Buffer.from(publicKey, 'base64')) : deps.verifier();
}

export function registerAuditCommands(program: Command, deps: AuditCliDeps = defaultDeps): void {
  const audit = program.command('audit').description('the append-only, signed audit log');
  audit
    .command('verify')
    .description('check hashes and signatures; exit 1 naming the first bad entry')
    .option('--head <file>', 'also check against a head written by `audit export`')
    .option('--public-key <base64>', "the audit key's raw public key (default: from FIREBREAK_KEY_DIR)")
    .action(async (flags: { head?: string; publicKey?: string }) => {
      const head = flags.head ? readHeadFile(flags.head) : undefined;
      const key = verifierFrom(flags.publicKey, deps);
      const db = await deps.open();
      try {
        const r = await verifyAuditChain(db, { key, ...(head ? { head } : {}) });
        if (r.ok) {
          const against = head ? `, contains the exported head (entry ${head.last_seq})` : '';
          deps.out(`audit log intact: ${r.entries} entries signed by key ${key.kid}${against}\n`);
          return;
        }
        deps.err(`audit log TAMPERED at entry ${r.firstBad?.seq}: ${r.firstBad?.reason}\n`);
        deps.setExitCode(1);
      } finally {
        await closeDb(db);
      }
    });
  audit
    .command('export')
    .description('write the chain head (last entry, hash, signature, key) as JSON')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (flags: { out?: string }) => {
      const key = deps.verifier();
      const db = await deps.open();
      try {
        const row = await auditChainHead(db);
        if (!row) throw new CliError('the audit log is empty: there is no head to export yet');
        if (!row.signature || !row.kid) {
          throw new CliError(`entry ${row.seq} is not signed: run \`audit verify\` before exporting`);
        }
        const head: AuditHeadExport = {
          format: AUDIT_HEAD_FORMAT,
          last_seq: row.seq,
          hash: row.hash,
          signature: row.signature,
          kid: row.kid,
          public_key: key.publicKeyRaw.toString('base64'),
          exported_at: new Date().toISOString(),
        };
        const json = JSON.stringify(head, null, 2) + '\n';
        if (flags.out) fs.writeFileSync(flags.out, json, { mode: 0o600 });
        else deps.out(json);
      } finally {
        await closeDb(db);
      }
    });
}
