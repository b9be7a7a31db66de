/**
 * The CONDSTORE oracle (RFC 7162 3.1): Debian's Dovecot and Mallard play the same script — a
 * session storing with UNCHANGEDSINCE while a second one changes flags under it, FETCH and UID FETCH
 * with CHANGEDSINCE, SEARCH MODSEQ (also on one flag's entry), HIGHESTMODSEQ in SELECT and STATUS,
 * and what the second session is told — and both answers are compared line by line.
 *
 * Normalized, by design: MODSEQ values are each server's own numbering (compared as present, and
 * the script's CHANGEDSINCE/UNCHANGEDSINCE values are taken from each server's own earlier answer);
 * the order of a FETCH's items is free (RFC 3501 7.4.2: Dovecot puts MODSEQ first, Mallard last),
 * as is the order of flags; \Recent is left out (which session claims it differs by design);
 * texts after a response code, tags' texts (Dovecot adds timings), UIDVALIDITY values, the hierarchy
 * delimiter and MAILBOXID (Mallard's alone) are left out; STATUS items are sorted (Mallard
 * answers in the order asked, Dovecot in its own; RFC 3501 fixes none).
 *
 * Documented difference: Mallard names the UID in every unsolicited FETCH (a flag change by the
 * other session), as QRESYNC requires (RFC 7162 3.2.4) and plain CONDSTORE allows; Dovecot only
 * under QRESYNC. So a FETCH's UID is compared only where the command asked for it (UID FETCH,
 * UID STORE, the UID item).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dovecotAvailable, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

const AVAILABLE = dovecotAvailable();
if (!AVAILABLE) console.warn('CONDSTORE oracle: skipped — Dovecot is not installed');

const USER = 'condstore@example.test';
const PASSWORD = 'condstore password';
const MESSAGES = 6;

/**
 * One step: `a` a command of the storing session, `b` one of the other session; `$M` in a command
 * stands for the mailbox's HIGHESTMODSEQ right after the appends, as that server reported it.
 */
type Step = { a: string } | { b: string };

const SCRIPT: Step[] = [
  { a: 'STATUS C (MESSAGES HIGHESTMODSEQ)' },
  { a: 'SELECT C (CONDSTORE)' },
  { b: 'SELECT C (CONDSTORE)' },
  { a: 'FETCH 1:* (UID FLAGS MODSEQ)' },
  { a: 'STORE 1,2 +FLAGS (\\Seen)' },
  { b: 'STORE 3 +FLAGS.SILENT (\\Flagged)' },
  // Message 2 and 3 changed after $M: MODIFIED names them, 4 is stored.
  { a: 'STORE 2:4 (UNCHANGEDSINCE $M) +FLAGS (\\Answered)' },
  { a: 'UID STORE 5 (UNCHANGEDSINCE $M) FLAGS.SILENT ($Work)' },
  { a: 'STORE 6 (UNCHANGEDSINCE 0) +FLAGS (\\Draft)' },
  { a: 'FETCH 1:* (FLAGS) (CHANGEDSINCE $M)' },
  { a: 'UID FETCH 1:* (UID) (CHANGEDSINCE $M)' },
  { a: 'FETCH 2,4 (FLAGS MODSEQ)' },
  { a: 'SEARCH MODSEQ $M' },
  { a: 'SEARCH MODSEQ "/flags/\\\\Seen" all $M' },
  { a: 'UID SEARCH MODSEQ $M NOT SEEN' },
  { a: 'SEARCH MODSEQ 1 UNSEEN' },
  { b: 'NOOP' },
  { b: 'STATUS INBOX (HIGHESTMODSEQ UIDNEXT)' },
  { a: 'UNSELECT' },
  { a: 'STATUS C (HIGHESTMODSEQ MESSAGES UNSEEN)' },
  { a: 'EXAMINE C (CONDSTORE)' },
];

function message(n: number): string {
  return `From: sender${n}@example.org\r\nTo: ${USER}\r\nSubject: message ${n}\r\n\r\nbody ${n}\r\n`;
}

async function login(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.readUntil(/^\* OK/);
  expect(await client.command('l', `LOGIN ${USER} "${PASSWORD}"`)).toMatch(/^l OK/m);
  return client;
}

/** A FETCH's items in one order: UID (if `withUid`), FLAGS (sorted, without \Recent), MODSEQ. */
function fetchLine(line: string, withUid: boolean): string {
  const [, seq, items] = /^\* (\d+) FETCH \((.*)\)$/.exec(line)!;
  const uid = withUid ? /UID (\d+)/.exec(items!) : null;
  const flags = /FLAGS \(([^)]*)\)/.exec(items!);
  const parts: string[] = [];
  if (uid) parts.push(`UID ${uid[1]}`);
  if (flags) {
    const list = flags[1]!.split(' ').filter((flag) => flag !== '' && flag !== '\\Recent');
    parts.push(`FLAGS (${list.sort().join(' ')})`);
  }
  if (/MODSEQ \(\d+\)/.test(items!)) parts.push('MODSEQ (n)');
  return `* ${seq} FETCH (${parts.join(' ')})`;
}

/** `* STATUS name (items)` with the items (name value pairs) sorted. */
function statusLine(line: string): string {
  const [, name, items] = /^\* STATUS "?([^" ]+)"? \((.*)\)$/.exec(line)!;
  const pairs = items!.match(/[A-Z]+ \S+/g) ?? [];
  return `* STATUS ${name} (${pairs.sort().join(' ')})`;
}

function normalize(reply: string, withUid: boolean): string[] {
  return reply
    .trimEnd()
    .split('\r\n')
    .filter((line) => !/^\* OK \[MAILBOXID/.test(line))
    .map((line) => {
      if (/^\* \d+ FETCH /.test(line)) return fetchLine(line, withUid);
      if (line.startsWith('* STATUS ')) return statusLine(line).replace(/MODSEQ \d+/, 'MODSEQ n');
      return line
        .replace(/^([ab]) (OK|NO|BAD) (\[[^\]]*\])?.*$/, (_, tag: string, state: string, code?: string) =>
          [tag, state, code].filter(Boolean).join(' '),
        )
        .replace(/^(\* (OK|NO) \[[^\]]*\]).*$/, '$1')
        .replace(/(HIGHESTMODSEQ|MODSEQ) \d+/g, '$1 n')
        .replace(/UIDVALIDITY \d+/g, 'UIDVALIDITY n')
        .replace(/\\Recent ?/g, '');
    });
}

/** Fills C and returns the HIGHESTMODSEQ its STATUS reports after the appends. */
async function prepare(port: number): Promise<number> {
  const client = await login(port);
  expect(await client.command('c', 'CREATE C')).toMatch(/^c OK/m);
  for (let n = 1; n <= MESSAGES; n++) {
    const text = message(n);
    const appended = await client.command(`p${n}`, `APPEND C {${Buffer.byteLength(text)}+}\r\n${text}`);
    expect(appended).toMatch(new RegExp(`^p${n} OK`, 'm'));
  }
  const status = await client.command('s', 'STATUS C (HIGHESTMODSEQ)');
  client.close();
  return Number(/HIGHESTMODSEQ (\d+)/.exec(status)![1]);
}

async function run(port: number): Promise<string[][]> {
  const highest = await prepare(port);
  const a = await login(port);
  const b = await login(port);
  const answers: string[][] = [];
  for (const step of SCRIPT) {
    const [client, tag, command] = 'a' in step ? [a, 'a', step.a] : [b, 'b', step.b];
    const reply = await client.command(tag, command.replaceAll('$M', String(highest)));
    answers.push(normalize(reply, /\bUID\b/.test(command)));
  }
  a.close();
  b.close();
  return answers;
}

describe.skipIf(!AVAILABLE)('CONDSTORE oracle (Dovecot 2.3)', () => {
  let dovecot: DovecotServer | undefined;
  let mallard: TestServer | undefined;
  const answers = new Map<string, string[][]>();

  beforeAll(async () => {
    dovecot = await startDovecot([[USER, PASSWORD]]);
    mallard = await startTestServer();
    await mallard.addUser(USER, PASSWORD);
    answers.set('dovecot', await run(dovecot.port));
    answers.set('mallard', await run(mallard.imapPort));
  }, 60_000);
  afterAll(async () => {
    await dovecot?.stop();
    await mallard?.stop();
  });

  it('answers as Dovecot does, step by step', () => {
    const dovecotAnswers = answers.get('dovecot')!;
    const mallardAnswers = answers.get('mallard')!;
    SCRIPT.forEach((step, i) => {
      const command = 'a' in step ? `a ${step.a}` : `b ${step.b}`;
      expect({ command, answer: mallardAnswers[i] }).toEqual({ command, answer: dovecotAnswers[i] });
    });
  });

  it('says MODIFIED for what changed since, and finds it by MODSEQ', () => {
    const mallardAnswers = answers.get('mallard')!;
    const answerTo = (command: string) =>
      mallardAnswers[SCRIPT.findIndex((step) => 'a' in step && step.a === command)]!;
    expect(answerTo('STORE 2:4 (UNCHANGEDSINCE $M) +FLAGS (\\Answered)').at(-1)).toBe('a OK [MODIFIED 2:3]');
    expect(answerTo('SEARCH MODSEQ $M')).toContain('* SEARCH 1 2 3 4 5 6 (MODSEQ n)');
  });
});
