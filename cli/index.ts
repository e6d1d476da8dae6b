/**
 * The command line (`npm run cli -- …`): one commander program; each command group lives in its
 * own module and registers itself here. A CliError ends the command with its message and exit code 1.
 * Whatever a command writes into DATA_DIR (DB, drill reports, an embedded Temporal server) is
 * owner-only, as from `npm start`.
 */
import { Command } from 'commander';
import { usePrivateUmask } from '../app/data-dir';
import { registerAgentCommands } from './agents';
import { registerAuditCommands } from './audit';
import { CliError } from './cli-error';
import { registerDrillCommands } from './drill';
import { registerIncidentCommands } from './incident';
import { registerKeyCommands } from './keys';
import { registerPlaybookCommands } from './playbook';

usePrivateUmask();
const program = new Command('firebreak').description('Firebreak incident response');
registerAgentCommands(program);
registerAuditCommands(program);
registerPlaybookCommands(program);
registerIncidentCommands(program);
registerDrillCommands(program);
registerKeyCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Expected failures say what to do; anything else is a bug and keeps its stack trace.
  if (!(err instanceof CliError)) throw err;
  console.error(err.message);
  process.exit(1);
}
