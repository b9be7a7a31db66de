/**
 * Argument parsing shared by the subcommands, on node:util's parseArgs, with errors that say
 * what the usage is.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './cli-error.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export function parseCommandArgs<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw usageError((error as Error).message, usage);
  }
}

/** The positionals a command needs, or a usage error naming the first one missing. */
export function requirePositionals(positionals: string[], names: string[], usage: string): string[] {
  if (positionals.length < names.length) throw usageError(`missing ${names[positionals.length]}`, usage);
  return positionals;
}

export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A password given as `--password -` (or not at all) is read from stdin, minus its line end. */
export async function passwordFrom(option: string | undefined): Promise<string> {
  if (option !== undefined && option !== '-') return option;
  const text = (await readStdin()).toString('utf8');
  return text.replace(/\r?\n$/, '');
}
