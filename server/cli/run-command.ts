/**
 * What every entry of the `mallard` command shares (main.ts, and the script of each command, see
 * bin/bundle.mjs): the global options, and how a failure becomes a message on stderr
 * (without a stack trace, unless it is a bug) and an exit code.
 */
import { markOneShotProcess } from '../config/one-shot.ts';
import { ConfigError } from '../config/resolve.ts';
import { isStoreError, type StoreErrorCode } from '../store/errors.ts';
import { CliError, EXIT } from './cli-error.ts';

const STORE_EXIT: Partial<Record<StoreErrorCode, number>> = {
  NONEXISTENT: EXIT.noUser,
  UNAVAILABLE: EXIT.tempFail,
  INVALID: EXIT.dataError,
  // what the admin API answers 409 conflict for, so both paths exit alike
  ALREADYEXISTS: EXIT.dataError,
  CANNOT: EXIT.dataError,
};

/**
 * The arguments without the global options: --offline may stand anywhere, and the commands see it
 * as MALLARD_CLI_OFFLINE. Every command but `serve` validates the configuration once and exits:
 * zod's JIT (a validator compiled with new Function on first use) costs more than it saves.
 */
export function commandArgs(args: string[]): string[] {
  if (args[0] !== 'serve') markOneShotProcess();
  const argv = args.filter((arg) => arg !== '--offline');
  if (argv.length !== args.length) process.env.MALLARD_CLI_OFFLINE = '1';
  return argv;
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) return error.code;
  if (error instanceof ConfigError) return EXIT.config;
  if (isStoreError(error)) return STORE_EXIT[error.code] ?? EXIT.failure;
  return EXIT.software;
}

/** Runs a command and sets the process's exit code from its result, or from what it threw. */
export async function runCommand(run: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`mallard: ${message}\n`);
    if (exitCodeFor(error) === EXIT.software && error instanceof Error)
      process.stderr.write(`${error.stack}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
