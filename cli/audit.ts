/**
 * `audit verify`: walks the hash-chained audit log and exits non-zero naming the first entry that
 * was modified, removed or reordered.
 */
import type { Command } from 'commander';
import { verifyAuditChain } from '../db/audit';
import { closeDb, type Db } from '../db/client';
import { openCliDb } from './db';

export function registerAuditCommands(program: Command, open: () => Db = openCliDb): void {
  const audit = program.command('audit').description('the append-only audit log');
  audit
    .command('verify')
    .description('check the hash chain; exit 1 at the first tampered entry')
    .action(async () => {
      const db = open();
      try {
        const r = await verifyAuditChain(db);
        if (r.ok) {
          console.log(`audit log intact: ${r.entries} entries`);
          return;
        }
        console.error(`audit log TAMPERED at entry ${r.firstBad?.seq}: ${r.firstBad?.reason}`);
        process.exitCode = 1;
      } finally {
        closeDb(db);
      }
    });
}
