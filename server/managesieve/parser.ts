/**
 * ManageSieve commands (RFC 5804 4): `command-name *(SP argument)`, where an argument is a number or
 * a string, quoted (`"..."` with `\"` and `\\`) or a literal (`{n+}` CRLF n octets). Pure: no state,
 * no sockets. Works on what the framer cut out (framer.ts): text segments and literal octets.
 * Strings are UTF-8 (RFC 5804 4: SAFE-UTF8-CHAR); anything else is a syntax error.
 */
import type { FramedCommand } from './framer.ts';
import { err } from './errors.ts';

export type Argument = { type: 'string'; value: string } | { type: 'number'; value: number };

export interface ManageSieveCommand {
  /** The command name, upper-cased. */
  name: string;
  args: Argument[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(bytes: Buffer, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw err(`${what} is not valid UTF-8`);
  }
}

/** Splits one text segment into tokens; `{n+}` at its end stands for the literal that follows. */
function tokensOf(text: Buffer, literal: Buffer | undefined, into: Array<string | Argument>): void {
  let at = 0;
  const length = text.length;
  while (at < length) {
    const byte = text[at]!;
    if (byte === 0x20) {
      at++;
      continue;
    }
    if (byte === 0x22) {
      at = quoted(text, at, into);
      continue;
    }
    let end = at;
    while (end < length && text[end] !== 0x20) end++;
    const word = text.subarray(at, end).toString('latin1');
    at = end;
    if (word.startsWith('{')) {
      if (literal === undefined || at !== length) throw err(`Misplaced literal ${word.slice(0, 20)}`);
      into.push({ type: 'string', value: decode(literal, 'A literal') });
    } else if (/^\d+$/.test(word)) {
      const value = Number(word);
      if (!Number.isSafeInteger(value)) throw err('Number too large');
      into.push({ type: 'number', value });
    } else if (/^[A-Za-z]+$/.test(word)) {
      into.push(word);
    } else {
      throw err(`Unexpected ${JSON.stringify(word.slice(0, 20))}: strings are quoted or literals`);
    }
  }
}

/** Reads a quoted string starting at `start` (its opening quote); returns the index after it. */
function quoted(text: Buffer, start: number, into: Array<string | Argument>): number {
  const bytes: number[] = [];
  for (let at = start + 1; at < text.length; at++) {
    const byte = text[at]!;
    if (byte === 0x22) {
      into.push({ type: 'string', value: decode(Buffer.from(bytes), 'A quoted string') });
      return at + 1;
    }
    if (byte === 0x5c) {
      const next = text[++at];
      if (next !== 0x22 && next !== 0x5c) throw err('Only \\" and \\\\ may be escaped in a quoted string');
      bytes.push(next);
    } else {
      bytes.push(byte);
    }
  }
  throw err('Unterminated quoted string');
}

/** The command, or null for an empty line (ignored). */
export function parseCommand(framed: FramedCommand): ManageSieveCommand | null {
  const tokens: Array<string | Argument> = [];
  framed.segments.forEach((segment, index) => tokensOf(segment, framed.literals[index], tokens));
  if (tokens.length === 0) return null;
  const [name, ...rest] = tokens;
  if (typeof name !== 'string') throw err('A command starts with its name');
  const args = rest.map((token) => {
    if (typeof token === 'string') throw err(`Unexpected ${token.slice(0, 20)}: strings are quoted`);
    return token;
  });
  return { name: name.toUpperCase(), args };
}

/** A client's answer to a SASL challenge (RFC 5804 2.1): one string, quoted or a literal. */
export function parseSaslResponse(framed: FramedCommand): string {
  const tokens: Array<string | Argument> = [];
  framed.segments.forEach((segment, index) => tokensOf(segment, framed.literals[index], tokens));
  const [only, ...rest] = tokens;
  if (only === undefined || typeof only === 'string' || only.type !== 'string' || rest.length > 0) {
    throw err('A SASL response is one string');
  }
  return only.value;
}

/** The arguments as strings, checking their count (optional ones are undefined). */
export function stringArgs(command: ManageSieveCommand, min: number, max: number): Array<string | undefined> {
  checkCount(command, min, max);
  return Array.from({ length: max }, (_, index) => {
    const arg = command.args[index];
    if (arg === undefined) return undefined;
    if (arg.type !== 'string') throw err(`Argument ${index + 1} of ${command.name} must be a string`);
    return arg.value;
  });
}

export function checkCount(command: ManageSieveCommand, min: number, max: number): void {
  const count = command.args.length;
  if (count < min || count > max) {
    const wanted = min === max ? `${min}` : `${min} to ${max}`;
    throw err(`${command.name} takes ${wanted} argument${max === 1 ? '' : 's'}, got ${count}`);
  }
}
