/**
 * The METADATA oracle: the same GETMETADATA and SETMETADATA commands on Debian's Dovecot (with
 * `imap_metadata = yes` and a file dict) and on Mallard, the answers compared: the entries of each
 * METADATA response (as a set: their order is free, and so is quoted against literal), and the
 * status with its response code. Documented differences: a missing mailbox is `NO [NONEXISTENT]`
 * on Mallard (Dovecot gives no code), and Dovecot keeps the server's /shared entries for its
 * administrator (NO [CANNOT]) where Mallard lets the user set them: its server entries are kept
 * per user, so nobody else sees them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dovecotAvailable, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { parseResponse, type ImapValue } from '../helpers/imap-raw.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

const AVAILABLE = dovecotAvailable();
if (!AVAILABLE) console.warn('METADATA oracle: skipped — Dovecot is not installed');

const USER = 'metadata@example.test';
const PASSWORD = 'metadata password';

const DOVECOT_METADATA = `mail_attribute_dict = file:%h/dovecot-attributes
protocol imap {
  imap_metadata = yes
}
`;

/** The commands both servers answer; each answer is compared whole (tag and text normalized). */
const SCRIPT: string[] = [
  'CREATE Notes',
  'SETMETADATA "" (/private/comment "Server comment")',
  'GETMETADATA "" (/private/comment /shared/comment)',
  'SETMETADATA INBOX (/private/comment "My own comment" /shared/comment "Shared comment")',
  'GETMETADATA INBOX (/shared/comment /private/comment)',
  'GETMETADATA INBOX /private/missing',
  'SETMETADATA Notes (/private/filters/values/small "SMALLER THAN 10K" /private/filters/values/big "BIGGER THAN 10K")',
  'GETMETADATA (DEPTH 1) Notes (/private/filters/values)',
  'GETMETADATA (DEPTH infinity) Notes (/private/filters)',
  'GETMETADATA (MAXSIZE 10) Notes (/private/filters/values/small)',
  'SETMETADATA INBOX (/private/comment NIL)',
  'GETMETADATA INBOX /private/comment',
  'SETMETADATA INBOX (/private/vendor/x/a "1" /private/vendor/x/b "2" /private/vendor/x/b/c "3")',
  'GETMETADATA (MAXSIZE 1 DEPTH infinity) INBOX (/private/vendor/x /private/comment)',
  'GETMETADATA (DEPTH 0) INBOX /private/vendor/x/a',
];

let dovecot: DovecotServer | undefined;
let mallard: TestServer | undefined;
const answers = new Map<string, string[]>();

function text(value: ImapValue): string {
  if (value === null) return 'NIL';
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (Array.isArray(value)) throw new Error('a list where a string belongs');
  return value.atom;
}

/** `mailbox: entry=value ...` (entries sorted) for a METADATA response, then `OK [code]`. */
function summary(reply: string): string[] {
  const out: string[] = [];
  if (reply.startsWith('* METADATA ')) {
    const [, mailbox, list] = parseResponse(Buffer.from(reply.slice(2), 'latin1'));
    const values = list as ImapValue[];
    const pairs: string[] = [];
    for (let i = 0; i < values.length; i += 2) pairs.push(`${text(values[i]!)}=${text(values[i + 1]!)}`);
    out.push(`${text(mailbox!)}: ${pairs.sort().join(' ')}`);
  }
  const tagged = /^t (OK|NO|BAD)( \[[^\]]*\])?/.exec(reply.trimEnd().split('\r\n').at(-1)!)!;
  // CREATE's [MAILBOXID (id)] is OBJECTID (RFC 8474), which Dovecot 2.3 does not offer.
  const code = tagged[2]?.startsWith(' [MAILBOXID ') ? '' : (tagged[2] ?? '');
  out.push(`${tagged[1]}${code}`);
  return out;
}

async function run(port: number): Promise<string[]> {
  const client = await LineClient.connect(port);
  await client.readUntil(/^\* OK/);
  expect(await client.command('l', `LOGIN ${USER} "${PASSWORD}"`)).toMatch(/^l OK/m);
  const out: string[] = [];
  for (const command of SCRIPT) out.push(await client.command('t', command));
  client.close();
  return out;
}

describe.skipIf(!AVAILABLE)('METADATA oracle (Dovecot 2.3)', () => {
  beforeAll(async () => {
    dovecot = await startDovecot([[USER, PASSWORD]], DOVECOT_METADATA);
    mallard = await startTestServer();
    await mallard.addUser(USER, PASSWORD);
    answers.set('dovecot', await run(dovecot.port));
    answers.set('mallard', await run(mallard.imapPort));
  }, 60_000);
  afterAll(async () => {
    await dovecot?.stop();
    await mallard?.stop();
  });

  it('answers as Dovecot does', () => {
    const dovecotAnswers = answers.get('dovecot')!.map(summary);
    const mallardAnswers = answers.get('mallard')!.map(summary);
    SCRIPT.forEach((command, i) => {
      expect({ command, answer: mallardAnswers[i] }).toEqual({ command, answer: dovecotAnswers[i] });
    });
  });

  it('differs only where documented', async () => {
    for (const [side, port] of [
      ['dovecot', dovecot!.port],
      ['mallard', mallard!.imapPort],
    ] as const) {
      const client = await LineClient.connect(port);
      await client.readUntil(/^\* OK/);
      await client.command('l', `LOGIN ${USER} "${PASSWORD}"`);
      const missing = await client.command('t', 'GETMETADATA Nowhere /private/comment');
      const shared = await client.command('t', 'SETMETADATA "" (/shared/comment "Shared comment")');
      client.close();
      if (side === 'dovecot') {
        expect(missing).toMatch(/^t NO Mailbox doesn't exist/m);
        expect(shared).toMatch(/^t NO \[CANNOT\] /m);
      } else {
        expect(missing).toMatch(/^t NO \[NONEXISTENT\] /m);
        expect(shared).toBe('t OK SETMETADATA completed\r\n');
      }
    }
  });
});
