#!/usr/bin/env node
import { Command } from 'commander';
import { AimError as ClientError } from '@aim/sdk';
import { CliExit, EXIT, createOutput } from './output.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerClientCommands } from './client-commands.js';
import { registerEvidenceCommands } from './evidence-commands.js';
import { exitCodeFor } from './errors.js';
import { registerKeygenCommand } from './keygen-command.js';
import { registerSdkTokenCommands } from './sdk-token-commands.js';
import { registerSessionCommands } from './sessions-commands.js';
import { SessionEnded } from './session.js';
import { registerServerCommands, server } from './server-commands.js';

const json = process.argv.includes('--json');
const out = createOutput(json);
const program = new Command('aim')
  .description('AIM: Agent Identity Management')
  .option('--json', 'machine-readable output')
  .showHelpAfterError()
  .exitOverride();

registerServerCommands(program, out);
registerAuditCommands(program, out);
registerClientCommands(program, out);
registerEvidenceCommands(program, out);
registerSdkTokenCommands(program, out);
registerSessionCommands(program, out);
registerKeygenCommand(program, out);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CliExit) process.exit(error.exitCode);
  const commanderCode = (error as { code?: string }).code;
  if (commanderCode === 'commander.helpDisplayed' || commanderCode === 'commander.version') process.exit(EXIT.ok);
  if (commanderCode?.startsWith('commander.')) {
    // Commander said it on standard error already; scripts reading --json get the one document they parse.
    // (A command group given without its subcommand prints its help, with the message "(outputHelp)".)
    const message = commanderCode === 'commander.help' ? 'a subcommand is missing: the usage is on standard error' : (error as Error).message.replace(/^error: /, '');
    if (json) out.error('usage', message);
    process.exit(EXIT.usage);
  }
  // Signed out while the command ran: "not signed in", whatever the command was doing.
  if (error instanceof SessionEnded) {
    out.error(error.code, error.message);
    process.exit(EXIT.auth);
  }
  // An answer from the server (or no answer): its protocol code, and an exit code by kind.
  if (error instanceof ClientError) {
    // The server's words name its HTTP route; at the terminal the way is `aim reauth`.
    const message = error.code === 'reauthentication_required' ? `${error.message.replace(/:.*$/, '')}: run \`aim reauth\`, then this command again` : error.message;
    out.error(error.code, message);
    process.exit(exitCodeFor(error));
  }
  if (error instanceof (await server()).AimError) {
    out.error(error.code, error.message);
    process.exit(error.code === 'not_found' ? EXIT.notFound : EXIT.failure);
  }
  out.error('cli_error', error instanceof Error ? error.message : String(error));
  process.exit(EXIT.failure);
}
