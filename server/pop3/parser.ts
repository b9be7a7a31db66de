/**
 * POP3 command lines (RFC 1939 3): a case-insensitive keyword, then arguments separated by spaces.
 * Pure: no state, no sockets. Argument checks that depend on the command live with the command.
 */
import { err } from './errors.ts';

export interface Pop3Command {
  /** The keyword, upper-cased. */
  name: string;
  /** Space-separated arguments (runs of spaces count as one). */
  args: string[];
  /** Everything after the keyword and its one space, exactly as sent (PASS: spaces are part of it). */
  rest: string;
}

/** Null for an empty line (ignored, as most servers do). */
export function parseCommand(line: Buffer): Pop3Command | null {
  const text = line.toString('utf8');
  if (text.trim() === '') return null;
  const space = text.indexOf(' ');
  const keyword = space === -1 ? text : text.slice(0, space);
  const rest = space === -1 ? '' : text.slice(space + 1);
  return { name: keyword.toUpperCase(), args: rest.split(' ').filter((arg) => arg !== ''), rest };
}

/** Whether a keyword could be a POP3 command at all (for the reply to garbage). */
export function isKeyword(name: string): boolean {
  return /^[A-Z]{1,8}$/.test(name);
}

const NUMBER = /^[0-9]{1,10}$/;

/** A decimal argument: a message number (from 1) or a line count (from 0). */
export function parseNumber(arg: string | undefined, what: string, min: number): number {
  if (arg === undefined) throw err(`Missing ${what}`);
  const value = NUMBER.test(arg) ? Number(arg) : NaN;
  if (!Number.isSafeInteger(value) || value < min) throw err(`Invalid ${what}: ${arg.slice(0, 20)}`);
  return value;
}

/** Refuses arguments beyond the `max` a command takes. */
export function expectArgs(command: Pop3Command, min: number, max: number): void {
  if (command.args.length < min)
    throw err(
      `${command.name} needs ${min === max ? min : `at least ${min}`} argument${min === 1 ? '' : 's'}`,
    );
  if (command.args.length > max) throw err(`Too many arguments for ${command.name}`);
}
