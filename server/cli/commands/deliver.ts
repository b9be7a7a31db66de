/**
 * `mallard deliver RECIPIENT... < message`: local delivery, as sendmail-style tools do it. The exit
 * code tells the caller what to do: 0 delivered to all, 67 (EX_NOUSER) some recipient is unknown,
 * 75 (EX_TEMPFAIL) try again later (store unavailable, or a mailbox over quota: RFC 3463 counts a
 * full mailbox as a persistent transient failure). A temporary failure outranks an unknown user so
 * that the message is retried rather than lost.
 */
import { isStoreError } from '../../store/errors.ts';
import type { Store } from '../../store/types.ts';
import { parseCommandArgs, readStdin } from '../args.ts';
import { EXIT, usageError } from '../cli-error.ts';
import { loadConfig } from '../../config/load.ts';
import { openStore } from '../../main.ts';

const USAGE = 'mallard deliver RECIPIENT... < message.eml';

type Outcome = { code: number; text: string };

async function deliverOne(store: Store, recipient: string, raw: Buffer, maxSize: number): Promise<Outcome> {
  if (raw.length > maxSize)
    return { code: EXIT.dataError, text: `message too large (${raw.length} > ${maxSize} bytes)` };
  try {
    const result = await store.deliver(recipient, raw);
    return { code: EXIT.ok, text: `delivered uid ${result.uid}` };
  } catch (error) {
    if (isStoreError(error, 'NONEXISTENT')) return { code: EXIT.noUser, text: 'unknown user' };
    if (isStoreError(error, 'OVERQUOTA')) return { code: EXIT.tempFail, text: 'mailbox full (over quota)' };
    if (isStoreError(error, 'CANNOT')) return { code: EXIT.noUser, text: error.message };
    return { code: EXIT.tempFail, text: `temporary failure: ${(error as Error).message}` };
  }
}

/** The exit code that tells the caller the most important thing: retry, then unknown, then other. */
function worstCode(codes: number[]): number {
  for (const code of [EXIT.tempFail, EXIT.noUser, EXIT.dataError]) if (codes.includes(code)) return code;
  return EXIT.ok;
}

export async function deliverCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {}, USAGE);
  if (positionals.length === 0) throw usageError('missing RECIPIENT', USAGE);
  const raw = await readStdin();
  if (raw.length === 0) throw usageError('no message on standard input', USAGE);
  const config = loadConfig({ file: values.config });
  let store: Store;
  try {
    store = await openStore(config);
  } catch (error) {
    // The message is still with the caller: ask it to retry rather than bounce.
    process.stderr.write(`cannot open the store: ${(error as Error).message}\n`);
    return EXIT.tempFail;
  }
  try {
    const codes: number[] = [];
    for (const recipient of positionals) {
      const outcome = await deliverOne(store, recipient, raw, config.limits.max_message_size);
      codes.push(outcome.code);
      const stream = outcome.code === EXIT.ok ? process.stdout : process.stderr;
      stream.write(`${recipient}\t${outcome.text}\n`);
    }
    return worstCode(codes);
  } finally {
    await store.close();
  }
}
