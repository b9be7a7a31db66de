/**
 * Reads an mbox file as a stream of messages: a message starts at a line `From ` that opens the
 * file or follows a blank line. Only one message is held at a time; one larger than `maxBytes` is
 * read past and reported by its size instead of its bytes.
 */
import fs from 'node:fs';
import { readEntry, type MboxMessage } from '../export/mboxrd.ts';

export type MboxItem = ({ kind: 'message' } & MboxMessage) | { kind: 'too-big'; size: number };

export async function* readMbox(file: string, maxBytes: number): AsyncGenerator<MboxItem> {
  let carry = '';
  let fromLine: string | null = null;
  let lines: string[] = [];
  let bytes = 0;
  let previousBlank = true;

  function* finish(): Generator<MboxItem> {
    if (fromLine === null) return;
    // The blank line before the next From line ends the entry; it is not part of the message.
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    if (bytes > maxBytes) yield { kind: 'too-big', size: bytes };
    else yield { kind: 'message', ...readEntry(fromLine, lines) };
  }

  function* take(line: string): Generator<MboxItem> {
    if (previousBlank && line.startsWith('From ')) {
      yield* finish();
      fromLine = line;
      lines = [];
      bytes = 0;
    } else if (fromLine !== null) {
      bytes += line.length + 2;
      if (bytes <= maxBytes) lines.push(line);
      else lines = [];
    }
    previousBlank = line === '';
  }

  // latin1 maps every byte to one character and back, so the bytes come through unchanged.
  for await (const chunk of fs.createReadStream(file, { encoding: 'latin1' })) {
    const text = carry + (chunk as string);
    const parts = text.split('\n');
    carry = parts.pop()!;
    for (const part of parts) yield* take(part.endsWith('\r') ? part.slice(0, -1) : part);
  }
  if (carry !== '') yield* take(carry.endsWith('\r') ? carry.slice(0, -1) : carry);
  yield* finish();
}
