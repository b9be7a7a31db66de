/** mboxrd both ways: tables for the From line, flags and quoting, and a property over random bodies. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMbox } from '../import/mbox-reader.ts';
import { asctime, flagFields, mboxEntry, parseFromLine } from './mboxrd.ts';

async function readBack(file: string) {
  const items = [];
  for await (const item of readMbox(file, 10_000_000)) items.push(item);
  return items;
}

function tempFile(content: Buffer | string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-mboxrd-'));
  const file = path.join(dir, 'test.mbox');
  fs.writeFileSync(file, content);
  return file;
}

describe('From lines', () => {
  it.each([
    ['From a@b.example Thu Jan  1 00:00:00 2020', 'a@b.example', '2020-01-01T00:00:00.000Z'],
    ['From - Mon Mar  4 09:15:00 2024', '-', '2024-03-04T09:15:00.000Z'],
    ['From MAILER-DAEMON Fri Dec 31 23:59:59 1999', 'MAILER-DAEMON', '1999-12-31T23:59:59.000Z'],
    ['From x@y Sat Mar  9 13:00 2024', 'x@y', '2024-03-09T13:00:00.000Z'],
    ['From x@y Sat Mar  9 13:00:00 CET 2024', 'x@y', '2024-03-09T13:00:00.000Z'],
    ['From x@y', 'x@y', null],
    ['From x@y yesterday', 'x@y', null],
    ['From x@y Sun Foo 10 14:00:00 2024', 'x@y', null],
  ])('%s', (line, sender, date) => {
    const parsed = parseFromLine(line);
    expect(parsed.sender).toBe(sender);
    expect(parsed.date?.toISOString() ?? null).toBe(date);
  });

  it('writes the date asctime-style in UTC', () => {
    expect(asctime(new Date('2024-03-04T09:05:07Z'))).toBe('Mon Mar  4 09:05:07 2024');
    expect(asctime(new Date('2024-12-25T23:00:00Z'))).toBe('Wed Dec 25 23:00:00 2024');
  });
});

describe('flag fields', () => {
  it.each([
    [[], 'Status: O\n'],
    [['\\Seen'], 'Status: RO\n'],
    [['\\Seen', '\\Answered', '\\Flagged', '\\Draft', '\\Deleted'], 'Status: RO\nX-Status: AFTD\n'],
    [['$Forwarded', 'work'], 'Status: O\nX-Keywords: $Forwarded work\n'],
  ])('%j', (flags, fields) => {
    expect(flagFields(flags)).toBe(fields);
  });
});

describe('mboxrd round trip', () => {
  it('quotes From lines at any depth and gives them back', async () => {
    const raw = Buffer.from(
      'Subject: q\r\n\r\nFrom a\r\n>From b\r\n>>From c\r\nFrom\r\n From d\r\n>From\r\n\r\nFrom e\r\n',
    );
    const entry = mboxEntry(raw, ['\\Seen', 'x'], new Date('2020-01-01T00:00:00Z'));
    expect(entry.toString()).toBe(
      'From MAILER-DAEMON Wed Jan  1 00:00:00 2020\nStatus: RO\nX-Keywords: x\nSubject: q\n\n' +
        '>From a\n>>From b\n>>>From c\nFrom\n From d\n>From\n\n>From e\n\n',
    );
    const [item] = await readBack(tempFile(entry));
    expect(item).toMatchObject({ kind: 'message', flags: ['\\Seen', 'x'], expunged: false });
    expect((item as { raw: Buffer }).raw.equals(raw)).toBe(true);
  });

  it('reads hostile input without crashing: no header end, a lone From line, CR only, NUL bytes', async () => {
    const items = await readBack(
      tempFile(
        'From x Thu Jan  1 00:00:00 2020\nno colon here\n\nFrom y\n\nFrom z Thu Jan  1 00:00:00 2020\r\n\u0000\r\r\n',
      ),
    );
    expect(items.map((item) => item.kind)).toEqual(['message', 'message', 'message']);
    // The lone From line is an empty message (the import reports it as skipped).
    expect(items.map((item) => (item.kind === 'message' ? item.raw.length > 0 : null))).toEqual([
      true,
      false,
      true,
    ]);
  });

  it('reports a message larger than the limit by its size, not its bytes', async () => {
    const file = tempFile(
      `From x Thu Jan  1 00:00:00 2020\nSubject: big\n\n${'y'.repeat(5000)}\n\nFrom x Thu Jan  1 00:00:00 2020\nSubject: small\n\nok\n`,
    );
    const items = [];
    for await (const item of readMbox(file, 1000)) items.push(item);
    expect(items[0]).toMatchObject({ kind: 'too-big' });
    expect(items[1]).toMatchObject({ kind: 'message' });
  });

  it('gives back random CRLF messages byte for byte, several in one file', async () => {
    let seed = 17;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pieces = [
      'From ',
      '>From ',
      '>>',
      'From',
      '\r\n',
      '\r\n\r\n',
      'a',
      ' ',
      'Status: RO',
      'é',
      '\t',
      '>',
    ];
    const messages: Buffer[] = [];
    for (let m = 0; m < 200; m++) {
      let body = '';
      const length = Math.floor(random() * 60);
      for (let i = 0; i < length; i++) body += pieces[Math.floor(random() * pieces.length)];
      // Every line ends in CRLF (what the store holds), so the text must end in one.
      body = body.replace(/\r(?!\n)/g, '').replace(/(?<!\r)\n/g, '\r\n');
      if (!body.endsWith('\r\n')) body += '\r\n';
      messages.push(Buffer.from(`Subject: m${m}\r\n\r\n${body}`, 'utf8'));
    }
    const file = tempFile(Buffer.concat(messages.map((raw) => mboxEntry(raw, [], new Date(0)))));
    const items = await readBack(file);
    expect(items).toHaveLength(messages.length);
    items.forEach((item, index) => {
      expect(item.kind).toBe('message');
      expect((item as { raw: Buffer }).raw.toString('latin1')).toBe(messages[index]!.toString('latin1'));
    });
  });
});
