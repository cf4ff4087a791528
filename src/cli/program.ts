import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { CliError, EXIT } from './errors';
import { addIngestCommand } from './ingest';
import { addIssueCommands } from './issues';
import { addJobCommands } from './jobs';
import { addKeysCommand } from './keys';

const ENVIRONMENT = `
A running server is reached at SLUICE_URL (or --url; default http://127.0.0.1:4000) with the API
key in SLUICE_KEY (or a file named by --key-file). Keys never go on the command line, where ps and
shell history would show them. "sluice keys" works on the server's data directory instead.

Exit codes: 0 success (with --watch: the job COMPLETED), 1 the job FAILED or was CANCELLED (or the
server failed the request), 2 usage or input errors (the server's userErrors, an unknown job),
3 the server cannot be reached or refused the key, 130 stopped watching on Ctrl-C (the job goes on).`;

function buildProgram(): Command {
  // Subcommands made by .command() inherit exitOverride: commander throws instead of exiting.
  const program = new Command('sluice')
    .description('Upload CSV and XLSX files to a Sluice server and follow their jobs; manage its API keys.')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', ENVIRONMENT);
  addIngestCommand(program);
  addJobCommands(program);
  addIssueCommands(program);
  addKeysCommand(program);
  return program;
}

/** Runs the command line; sets the exit code (a watched job's, or that of the error that ended it). */
export async function run(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeOf(error);
  }
}

function exitCodeOf(error: unknown): number {
  // Commander has printed its own message (or the help); a help asked for is no error.
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (!(error instanceof CliError || error instanceof ConfigError)) throw error;
  console.error(`sluice: ${error.message}`);
  return error instanceof CliError ? error.exitCode : EXIT.usage;
}
