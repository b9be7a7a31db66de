/**
 * Runs a `mallard` command function in this process (a child process costs seconds here), with
 * environment variables set for the call: its exit code as server/cli/main.ts maps errors, stdout.
 */
import { vi } from 'vitest';
import { CliError } from '../../server/cli/cli-error.ts';
import { isStoreError } from '../../server/store/errors.ts';

export type Command = (argv: string[]) => Promise<number>;

export interface Outcome {
  status: number;
  text: string;
  bytes: Buffer;
  error: string;
}

const STORE_EXIT: Record<string, number> = {
  NONEXISTENT: 67,
  UNAVAILABLE: 75,
  INVALID: 65,
  ALREADYEXISTS: 65,
};

/** Runs a command in this process with `env` set: exit code (as main.ts maps it), stdout, error. */
export async function call(command: Command, args: string[], env: Record<string, string>): Promise<Outcome> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  const chunks: Buffer[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(Buffer.from(chunk));
    return true;
  });
  const done = (status: number, error = '') => {
    const bytes = Buffer.concat(chunks);
    return { status, text: bytes.toString('utf8'), bytes, error };
  };
  try {
    return done(await command(args));
  } catch (error) {
    if (error instanceof CliError) return done(error.code, error.message);
    if (isStoreError(error)) return done(STORE_EXIT[error.code] ?? 1, error.message);
    throw error;
  } finally {
    spy.mockRestore();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
