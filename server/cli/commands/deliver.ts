/**
 * `mallard deliver [--from SENDER] RECIPIENT... < message`: local delivery, as sendmail-style tools
 * (and dovecot-lda) do it. Each recipient's copy gets the trace header fields of every delivery
 * path (see server/delivery/trace.ts): Return-Path from --from (else the message's own Return-Path,
 * as dovecot-lda takes it, else the null sender), Delivered-To, Received. The exit
 * code tells the caller what to do: 0 delivered to all, 67 (EX_NOUSER) some recipient is unknown,
 * 75 (EX_TEMPFAIL) try again later (store unavailable, or a mailbox over quota: RFC 3463 counts a
 * full mailbox as a persistent transient failure). A temporary failure outranks an unknown user so
 * that the message is retried rather than lost.
 */
import crypto from 'node:crypto';
import { countDelivery } from '../../delivery/history.ts';
import { adminScripts, deliverWithSieve, type SieveLog } from '../../delivery/sieve.ts';
import type { CompiledScript } from '../../sieve/index.ts';
import { returnPathOf, withTrace, type TraceInfo } from '../../delivery/trace.ts';
import { isStoreError } from '../../store/errors.ts';
import type { Store } from '../../store/types.ts';
import { parseCommandArgs, readStdin, writeNow } from '../args.ts';
import { EXIT, usageError } from '../cli-error.ts';
import { loadConfigLazily } from '../../config/quick-check.ts';
import { openStore } from '../../main.ts';

const USAGE = 'mallard deliver [--from SENDER] RECIPIENT... < message.eml';

type Outcome = { code: number; text: string };

interface LocalDelivery {
  store: Store;
  before: CompiledScript[];
  recipient: string;
  sender: string;
  hostname: string;
  raw: Buffer;
  maxSize: number;
}

/** Sieve's log lines go to standard error, where the caller (an MTA, cron) keeps them. */
const stderrLog: SieveLog = {
  info: () => undefined,
  warn: (fields: object, message: string) => writeNow(2, `${message}: ${JSON.stringify(fields)}\n`),
};

async function deliverOne({
  store,
  before,
  recipient,
  sender,
  hostname,
  raw,
  maxSize,
}: LocalDelivery): Promise<Outcome> {
  if (raw.length > maxSize)
    return { code: EXIT.dataError, text: `message too large (${raw.length} > ${maxSize} bytes)` };
  try {
    const result = await deliverWithSieve({
      store,
      log: stderrLog,
      hostname,
      recipient,
      sender,
      raw,
      before,
    });
    // Counted for the dashboard's history; a count that fails is no reason to deliver again.
    await countDelivery(store, 'local', null);
    return { code: EXIT.ok, text: `delivered uid ${result.uid}` };
  } catch (error) {
    if (isStoreError(error, 'NONEXISTENT')) return { code: EXIT.noUser, text: 'unknown user' };
    if (isStoreError(error, 'OVERQUOTA')) return { code: EXIT.tempFail, text: 'mailbox full (over quota)' };
    if (isStoreError(error, 'CANNOT')) return { code: EXIT.noUser, text: error.message };
    return { code: EXIT.tempFail, text: `temporary failure: ${(error as Error).message}` };
  }
}

/**
 * The envelope sender given with --from: an address, or "" / "<>" for the null sender. Whatever
 * could break the Return-Path field out of its angle brackets is refused.
 */
function senderOption(value: string): string {
  const sender = value.trim().replace(/^<(.*)>$/, '$1');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f<>]/.test(sender)) {
    throw usageError(`--from: not an address: ${JSON.stringify(value)}`, USAGE);
  }
  return sender;
}

/** The exit code that tells the caller the most important thing: retry, then unknown, then other. */
function worstCode(codes: number[]): number {
  for (const code of [EXIT.tempFail, EXIT.noUser, EXIT.dataError]) if (codes.includes(code)) return code;
  return EXIT.ok;
}

export async function deliverCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { from: { type: 'string', short: 'f' } }, USAGE);
  if (positionals.length === 0) throw usageError('missing RECIPIENT', USAGE);
  const given = values.from === undefined ? null : senderOption(values.from);
  const raw = await readStdin();
  if (raw.length === 0) throw usageError('no message on standard input', USAGE);
  const config = await loadConfigLazily({ file: values.config });
  const trace: Omit<TraceInfo, 'recipient'> = {
    origin: { kind: 'local', uid: process.getuid?.() ?? null },
    sender: given ?? returnPathOf(raw) ?? '',
    hostname: config.hostname,
    id: crypto.randomBytes(6).toString('hex'),
    // A local delivery has no SMTPUTF8 to ask for: UTF-8 addresses may appear (RFC 6532).
    utf8: true,
    date: new Date(),
  };
  let store: Store;
  try {
    store = await openStore(config);
  } catch (error) {
    // The message is still with the caller: ask it to retry rather than bounce.
    writeNow(2, `cannot open the store: ${(error as Error).message}\n`);
    return EXIT.tempFail;
  }
  try {
    const codes: number[] = [];
    for (const recipient of positionals) {
      const copy = withTrace(raw, { ...trace, recipient });
      const outcome = await deliverOne({
        store,
        before: adminScripts(config.inbound.sieve_before, stderrLog),
        recipient,
        sender: trace.sender,
        hostname: config.hostname,
        raw: copy,
        maxSize: config.limits.max_message_size,
      });
      codes.push(outcome.code);
      writeNow(outcome.code === EXIT.ok ? 1 : 2, `${recipient}\t${outcome.text}\n`);
    }
    return worstCode(codes);
  } finally {
    await store.close();
  }
}
