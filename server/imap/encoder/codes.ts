/**
 * Response codes (`[...]` in status responses). A code is kept as its formatted text without the
 * brackets, e.g. `READ-ONLY`, `UIDNEXT 5`, `BADCHARSET (UTF-8 US-ASCII)` — the same form as
 * ImapError.code. These helpers format the ones with arguments.
 */
import { compressSequence, isAtomText, isFlagText, quote } from './format.ts';

export type ResponseCode = string;

function atomOrQuoted(text: string): string {
  return isAtomText(text) ? text : quote(text.replace(/[\r\n\0]/g, ' '));
}

function num(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`Invalid number in response code: ${String(n)}`);
  return String(n);
}

export const ResponseCodes = {
  capability: (capabilities: Iterable<string>): ResponseCode => ['CAPABILITY', ...capabilities].join(' '),
  /** `PERMANENTFLAGS (\Seen \*)`; flags that cannot be sent as atoms are left out. */
  permanentFlags: (flags: Iterable<string>): ResponseCode =>
    `PERMANENTFLAGS (${[...flags].filter(isFlagText).join(' ')})`,
  badCharset: (charsets: Iterable<string> = ['UTF-8', 'US-ASCII']): ResponseCode =>
    `BADCHARSET (${[...charsets].map(atomOrQuoted).join(' ')})`,
  uidValidity: (n: number): ResponseCode => `UIDVALIDITY ${num(n)}`,
  uidNext: (n: number): ResponseCode => `UIDNEXT ${num(n)}`,
  unseen: (n: number): ResponseCode => `UNSEEN ${num(n)}`,
  highestModSeq: (n: number): ResponseCode => `HIGHESTMODSEQ ${num(n)}`,
  /** `MODIFIED 1:3,7` (RFC 7162): messages that failed UNCHANGEDSINCE. */
  modified: (numbers: Iterable<number>): ResponseCode => `MODIFIED ${compressSequence(numbers)}`,
  /** `APPENDUID uidvalidity uid-set` (RFC 4315). */
  appendUid: (uidValidity: number, uids: Iterable<number>): ResponseCode =>
    `APPENDUID ${num(uidValidity)} ${compressSequence(uids, false)}`,
  /** `COPYUID uidvalidity source-set dest-set` (RFC 4315); order is kept so the sets correspond. */
  copyUid: (uidValidity: number, source: Iterable<number>, destination: Iterable<number>): ResponseCode =>
    `COPYUID ${num(uidValidity)} ${compressSequence(source, false)} ${compressSequence(destination, false)}`,
  /** `MAILBOXID (id)` (RFC 8474). */
  mailboxId: (id: string): ResponseCode => `MAILBOXID (${atomOrQuoted(id)})`,
} as const;
