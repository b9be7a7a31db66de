/**
 * Argument parsing shared by the subcommands, on node:util's parseArgs, with errors that say
 * what the usage is.
 */
import fs from 'node:fs';
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
  // Read with a plain read(2) loop: process.stdin on a pipe (how an MTA hands `mallard deliver`
  // its message) builds a socket and loads Node's stream and net modules, some 20 ms of CPU at
  // every start. A non-blocking descriptor (shared with a parent that set it so) answers EAGAIN:
  // then the stream, which waits for data.
  try {
    return fs.readFileSync(0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
  }
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

/**
 * Writes `text` to standard output (fd 1) or error (fd 2) with write(2): a command that an MTA
 * starts per message and that prints a line need not build a stream (on a pipe, a socket and Node's
 * net module: some 15 ms of CPU). A reader that has gone (EPIPE) is not an error: the exit code says
 * what happened. A non-blocking descriptor that is full (EAGAIN) gets the rest through the stream.
 */
export function writeNow(fd: 1 | 2, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  try {
    while (done < bytes.length) done += fs.writeSync(fd, bytes, done);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(done));
    else if (code !== 'EPIPE') throw error;
  }
}
