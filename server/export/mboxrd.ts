/**
 * The mboxrd format, both ways. Each message starts with a `From SENDER DATE` line (the envelope
 * sender and the internal date, asctime in UTC); a body line that starts with `From ` after any
 * number of `>` gets one more `>` (and loses one when read back), so quoting is reversible. Lines
 * end in LF as mbox tools expect: CRLF becomes LF on the way out and LF becomes CRLF on the way in.
 * Flags travel in the header fields mail readers and Dovecot use: `Status:` (R seen, O old),
 * `X-Status:` (A answered, F flagged, T draft, D deleted) and `X-Keywords:`; on the way in they
 * (and Thunderbird's X-Mozilla-Status/-Keys) are read and taken out, as Dovecot does.
 */
import type { Flag } from '../store/types.ts';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (value: number) => String(value).padStart(2, '0');

/** `Thu Jan  1 00:00:00 2020`, the date of a From line (UTC). */
export function asctime(date: Date): string {
  return (
    `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${date.getUTCFullYear()}`
  );
}

/** The date of a From line, or null when it has none we can read. */
export function parseFromLine(line: string): { sender: string; date: Date | null } {
  const rest = line.replace(/^From /, '');
  const space = rest.indexOf(' ');
  const sender = space < 0 ? rest : rest.slice(0, space);
  const match =
    /(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:[A-Z]{3,5}\s+|[+-]\d{4}\s+)?(\d{4})/.exec(
      space < 0 ? '' : rest.slice(space + 1),
    );
  if (!match) return { sender, date: null };
  const month = MONTHS.indexOf(match[1]!);
  if (month < 0) return { sender, date: null };
  const date = new Date(
    Date.UTC(
      Number(match[6]),
      month,
      Number(match[2]),
      Number(match[3]),
      Number(match[4]),
      Number(match[5] ?? 0),
    ),
  );
  return { sender, date: Number.isNaN(date.getTime()) ? null : date };
}

/** The envelope sender from the Return-Path field, else MAILER-DAEMON (what Dovecot writes). */
export function envelopeSender(head: string): string {
  const match = /^Return-Path:[ \t]*<([^>\s]*)>/im.exec(head);
  return match?.[1] || 'MAILER-DAEMON';
}

/** The header fields that carry the flags, one string (each line ends in LF). */
export function flagFields(flags: readonly Flag[]): string {
  const has = (flag: string) => flags.some((f) => f.toLowerCase() === flag.toLowerCase());
  const status = `${has('\\Seen') ? 'R' : ''}O`;
  const xStatus = [
    has('\\Answered') ? 'A' : '',
    has('\\Flagged') ? 'F' : '',
    has('\\Draft') ? 'T' : '',
    has('\\Deleted') ? 'D' : '',
  ].join('');
  const keywords = flags.filter((flag) => !flag.startsWith('\\'));
  return (
    `Status: ${status}\n` +
    (xStatus ? `X-Status: ${xStatus}\n` : '') +
    (keywords.length > 0 ? `X-Keywords: ${keywords.join(' ')}\n` : '')
  );
}

const QUOTED_FROM = /^>*From /;

/**
 * One message as an mboxrd entry: From line, flag fields, the message with LF line ends and
 * From-quoting, and the blank line that ends it.
 */
export function mboxEntry(raw: Buffer, flags: readonly Flag[], internalDate: Date): Buffer {
  const text = raw.toString('latin1').replace(/\r\n/g, '\n');
  const headEnd = text.indexOf('\n\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd + 1);
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    if (QUOTED_FROM.test(lines[index]!)) lines[index] = `>${lines[index]}`;
  }
  let body = lines.join('\n');
  if (!body.endsWith('\n')) body += '\n';
  const from = `From ${envelopeSender(head)} ${asctime(internalDate)}\n`;
  return Buffer.from(`${from}${flagFields(flags)}${body}\n`, 'latin1');
}

/** Fields that hold mbox storage state, not message content: read for flags, then dropped. */
const STATE_FIELDS = /^(status|x-status|x-keywords|x-mozilla-status|x-mozilla-status2|x-mozilla-keys):/i;

/** Thunderbird's X-Mozilla-Status bits. */
const MOZILLA = { read: 0x1, replied: 0x2, marked: 0x4, expunged: 0x8 };

function flagsOf(fields: Array<[string, string]>): Flag[] {
  const flags = new Set<Flag>();
  const keywords = new Set<string>();
  for (const [name, value] of fields) {
    const lower = name.toLowerCase();
    if (lower === 'status' && value.includes('R')) flags.add('\\Seen');
    if (lower === 'x-status') {
      if (value.includes('A')) flags.add('\\Answered');
      if (value.includes('F')) flags.add('\\Flagged');
      if (value.includes('T')) flags.add('\\Draft');
      if (value.includes('D')) flags.add('\\Deleted');
    }
    if (lower === 'x-mozilla-status') {
      const bits = Number.parseInt(value.trim(), 16);
      if (Number.isFinite(bits)) {
        if (bits & MOZILLA.read) flags.add('\\Seen');
        if (bits & MOZILLA.replied) flags.add('\\Answered');
        if (bits & MOZILLA.marked) flags.add('\\Flagged');
        if (bits & MOZILLA.expunged) flags.add('\\Deleted');
      }
    }
    if (lower === 'x-keywords' || lower === 'x-mozilla-keys') {
      for (const word of value.split(/[\s,]+/))
        if (/^[!#-'*+\-.0-9A-Z^-z|~$]+$/i.test(word)) keywords.add(word);
    }
  }
  return [...flags, ...keywords];
}

export interface MboxMessage {
  raw: Buffer;
  flags: Flag[];
  /** From the From line; null when it had no readable date. */
  fromDate: Date | null;
  /** A Thunderbird message deleted but not compacted away (X-Mozilla-Status expunged bit). */
  expunged: boolean;
}

/**
 * One entry read back (the lines after its From line, without the blank line that ends it): flag
 * fields taken out and read, From-quoting undone, LF turned into CRLF.
 */
export function readEntry(fromLine: string, lines: string[]): MboxMessage {
  let headEnd = lines.indexOf('');
  if (headEnd < 0) headEnd = lines.length;
  const fields: Array<[string, string]> = [];
  const kept: string[] = [];
  for (let index = 0; index < headEnd; index++) {
    const line = lines[index]!;
    const state = STATE_FIELDS.exec(line);
    if (state) {
      let value = line.slice(state[0].length);
      while (index + 1 < headEnd && /^[ \t]/.test(lines[index + 1]!)) value += ` ${lines[++index]!.trim()}`;
      fields.push([state[1]!, value.trim()]);
    } else kept.push(line);
  }
  const rest = lines.slice(headEnd).map((line) => (/^>+From /.test(line) ? line.slice(1) : line));
  const unquotedHead = kept.map((line) => (/^>+From /.test(line) ? line.slice(1) : line));
  // Each line was ended by a newline in the file: a blank line at the end of the message stays.
  const text = [...unquotedHead, ...rest].map((line) => `${line}\r\n`).join('');
  const flags = flagsOf(fields);
  const mozilla = fields.find(([name]) => name.toLowerCase() === 'x-mozilla-status');
  const expunged = mozilla ? (Number.parseInt(mozilla[1], 16) & MOZILLA.expunged) !== 0 : false;
  return {
    raw: Buffer.from(text, 'latin1'),
    flags: flags.filter((flag) => flag !== '\\Deleted' || !expunged),
    fromDate: parseFromLine(fromLine).date,
    expunged,
  };
}
