/**
 * The X-Spam-* header fields Mallard writes on each stored copy (the names SpamAssassin made
 * common, which mail clients' filters and Sieve scripts look for), and the removal of incoming
 * ones: a sender must not be able to write "X-Spam-Flag: NO" (or an rspamd verdict) of its own.
 */
import libmime from 'libmime';
import { withoutFields } from '../delivery/trace.ts';

export interface SpamHeaderInput {
  spam: boolean;
  score: number;
  /** The score from which a message is junk. */
  required: number;
  /** "accept", "junk", "reject", or why the lists decided ("allowed", "blocked"). */
  action: string;
  /** "rspamd" or "mallard" (the own checks). */
  scanner: string;
  tests: string[];
}

/** The fields, each ending with CRLF. */
export function spamHeaders(input: SpamHeaderInput): string {
  const flag = input.spam ? 'YES' : 'NO';
  const score = input.score.toFixed(1);
  const tests = input.tests.length > 0 ? input.tests.join(',') : 'none';
  const status = libmime.foldLines(
    `X-Spam-Status: ${input.spam ? 'Yes' : 'No'}, score=${score} required=${input.required.toFixed(1)} ` +
      `action=${input.action} scanner=${input.scanner} tests=${tests}`,
    78,
  );
  return `X-Spam-Flag: ${flag}\r\nX-Spam-Score: ${score}\r\n${status.replace(/\r?\n/g, '\r\n')}\r\n`;
}

/** X-Spam, X-Spam-*, X-Spamd-* (rspamd's milter) and X-Rspamd-* fields. */
const SPAM_FIELD = /^(x-spam(d)?(-[a-z0-9-]*)?|x-rspamd-[a-z0-9-]*)[ \t]*:/i;

/** The message without incoming spam verdict fields; the very same buffer when it has none. */
export function withoutSpamHeaders(message: Buffer): Buffer {
  return withoutFields(message, (field) => SPAM_FIELD.test(field.toString('latin1', 0, 64)));
}
