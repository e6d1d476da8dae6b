/**
 * The command line (`npm run cli -- …`): one commander program; each command group lives in its
 * own module and registers itself here.
 */
import { Command } from 'commander';
import { registerAgentCommands } from './agents';
import { registerAuditCommands } from './audit';
import { registerDrillCommands } from './drill';
import { registerIncidentCommands } from './incident';
import { registerPlaybookCommands } from './playbook';

const program = new Command('firebreak').description('Firebreak incident response');
registerAgentCommands(program);
registerAuditCommands(program);
registerPlaybookCommands(program);
registerIncidentCommands(program);
registerDrillCommands(program);
await program.parseAsync(process.argv);
