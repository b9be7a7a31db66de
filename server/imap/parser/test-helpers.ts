/**
 * Helpers shared by the parser tests (not used by the server).
 */
import { parseCommand } from './commands.ts';
import type { ParseError } from './errors.ts';
import { frameAll, isFramerError, type FramerLimits } from './framer.ts';
import type { SeqNumber, SequenceSet } from './sequence.ts';
import type { ParsedCommand, ParseOptions } from './types.ts';

/** Frames `text` (a string gets CRLF appended; a Buffer is used as is) and parses the single command. */
export function parse(
  text: string | Buffer,
  options: ParseOptions = {},
  limits: Partial<FramerLimits> = {},
): ParsedCommand | ParseError {
  const input = typeof text === 'string' ? Buffer.from(`${text}\r\n`, 'utf8') : text;
  const framed = frameAll(input, limits);
  if (framed.length !== 1) throw new Error(`expected one command, framed ${String(framed.length)}`);
  const first = framed[0]!;
  if (isFramerError(first)) throw new Error(`framer error: ${first.message}`);
  return parseCommand(first, options);
}

/** An expected sequence set from its text, built without the parser. */
export function S(text: string): SequenceSet {
  if (text === '$') return { ranges: [], saved: true };
  const num = (t: string): SeqNumber => (t === '*' ? '*' : Number(t));
  return {
    saved: false,
    ranges: text.split(',').map((part) => {
      const [a, b] = part.split(':');
      return { start: num(a!), end: num(b ?? a!) };
    }),
  };
}
