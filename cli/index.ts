/** The command line (`npm run cli -- …`): one commander program; each area registers its commands. */
import { Command } from 'commander';
import { registerAgentCommands } from './agents';
import { registerAuditCommands } from './audit';

const program = new Command('firebreak').description('Firebreak incident response');
registerAgentCommands(program);
registerAuditCommands(program);
await program.parseAsync(process.argv);
