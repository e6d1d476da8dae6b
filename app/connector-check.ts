/**
 * The start-up connector check: each built-in playbook against the connectors this install has
 * configured and the agent inventory, logged as one warning per containment step that cannot run
 * here (`file:line:col`), so an operator learns before the first incident that, say, a revoke has
 * no connector. The same check is `npm run cli -- playbook lint --connectors`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { connectorCoverageWithInventory } from '../connectors/coverage';
import type { Db } from '../db/client';
import { checkConnectors } from '../playbooks/connector-check';
import { BUILTIN_PLAYBOOK_DIR } from '../playbooks/loader';
import type { Config } from './config';

/** Returns the warnings it logged (file:line:col message). */
export async function warnUncoveredContainment(
  config: Config,
  db: Db,
  log: Logger,
  dir = BUILTIN_PLAYBOOK_DIR,
): Promise<string[]> {
  const coverage = await connectorCoverageWithInventory(config.connectors, db);
  const warnings: string[] = [];
  for (const name of fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    const file = path.join(dir, name);
    for (const p of checkConnectors(fs.readFileSync(file, 'utf8'), coverage)) {
      const where = `${path.relative(process.cwd(), file)}:${p.line}:${p.col}`;
      warnings.push(`${where} ${p.message}`);
      log.warn({ playbook: where }, p.message);
    }
  }
  return warnings;
}
