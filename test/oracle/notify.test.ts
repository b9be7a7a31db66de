/**
 * The NOTIFY oracle: Debian's Dovecot 2.3 (which offers NOTIFY with `mailbox_list_index = yes`)
 * and Mallard play the same script, a watching session with NOTIFY and a second session changing
 * things, and the watcher's answers are compared line by line after normalizing what differs by
 * design: the tag's text (Dovecot adds timings), UIDVALIDITY values (and whether an unsolicited
 * STATUS carries one: Dovecot leaves it out of some, Mallard always sends it), the hierarchy delimiter
 * (Dovecot's maildir uses "."), and quoting of mailbox names (both forms are the same string).
 *
 * Compared at NOOP only: in this setup Dovecot 2.3 did not push other mailboxes' STATUS, nor
 * mailbox names (MailboxName), to a session in IDLE within seconds, so IDLE and the name and
 * subscription events are checked against the RFC's transcripts (test/imap/notify-extension.test.ts).
 *
 * Documented differences, checked apart: for an unsupported event Dovecot's BADEVENT names the
 * event refused, Mallard's lists the events it supports (as RFC 5465 3.1 asks); Dovecot accepts
 * MessageNew without MessageExpunge and mailbox events for `selected`, which RFC 5465 5 and 6.1
 * call errors: Mallard answers BAD.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dovecotAvailable, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

const AVAILABLE = dovecotAvailable();
if (!AVAILABLE) console.warn('NOTIFY oracle: skipped — Dovecot is not installed');

const USER = 'notify@example.test';
const PASSWORD = 'notify password';
const MESSAGE = 'From: a@example.test\r\nSubject: oracle\r\n\r\nbody\r\n';

/** `watch`: a command of the watching session, compared; `act`: one of the other session. */
type Step = { watch: string } | { act: string };

const SCRIPT: Step[] = [
  { act: 'CREATE Lists' },
  { act: 'CREATE Other' },
  { watch: 'SELECT INBOX' },
  {
    watch:
      'NOTIFY SET STATUS (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (From Subject)]) MessageExpunge)) (mailboxes Lists (MessageNew MessageExpunge))',
  },
  { act: 'APPEND Lists' },
  { act: 'APPEND Other' },
  { watch: 'NOOP' },
  { act: 'APPEND INBOX' },
  { watch: 'NOOP' },
  { watch: 'NOTIFY SET (selected NONE) (personal (MessageNew MessageExpunge FlagChange))' },
  { act: 'APPEND Other' },
  { act: 'APPEND INBOX' },
  { watch: 'NOOP' },
  { watch: 'NOTIFY NONE' },
  { act: 'CREATE Quiet' },
  { watch: 'NOOP' },
];

function normalize(reply: string): string[] {
  return reply
    .trimEnd()
    .split('\r\n')
    .map((line) =>
      line
        .replace(/^w (OK|NO|BAD).*$/, 'w $1')
        // Dovecot leaves UIDVALIDITY out of some unsolicited STATUS (after a NOTIFY SET without
        // STATUS); Mallard always sends it (RFC 5465 3.1): compared without it.
        .replace(/^(\* STATUS .*) UIDVALIDITY \d+/, '$1')
        .replace(/UIDVALIDITY \d+/g, 'UIDVALIDITY n')
        .replace(/\[UIDVALIDITY n\].*$/, '[UIDVALIDITY n]')
        .replace(/ "\." /g, ' "/" ')
        .replace(/"([A-Za-z]+)"/g, '$1'),
    )
    .filter((line) => !/^\* OK \[(UIDNEXT|HIGHESTMODSEQ|MAILBOXID|PERMANENTFLAGS)/.test(line));
}

async function login(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.readUntil(/^\* OK/);
  expect(await client.command('l', `LOGIN ${USER} "${PASSWORD}"`)).toMatch(/^l OK/m);
  return client;
}

/** A command of the other session (APPEND sends MESSAGE). */
async function act(actor: LineClient, command: string): Promise<void> {
  if (!command.startsWith('APPEND')) {
    expect(await actor.command('a', command)).toMatch(/^a OK/m);
    return;
  }
  actor.send(`a ${command} {${MESSAGE.length}}\r\n`);
  await actor.readUntil(/^\+/);
  actor.send(`${MESSAGE}\r\n`);
  expect(await actor.readUntil(/^a (OK|NO|BAD)/)).toMatch(/^a OK/m);
}

async function run(port: number): Promise<string[][]> {
  const watcher = await login(port);
  const actor = await login(port);
  const answers: string[][] = [];
  for (const step of SCRIPT) {
    if ('watch' in step) {
      answers.push(normalize(await watcher.command('w', step.watch)));
    } else {
      await act(actor, step.act);
    }
  }
  watcher.close();
  actor.close();
  return answers;
}

describe.skipIf(!AVAILABLE)('NOTIFY oracle (Dovecot 2.3)', () => {
  let dovecot: DovecotServer | undefined;
  let mallard: TestServer | undefined;
  const answers = new Map<string, string[][]>();

  beforeAll(async () => {
    dovecot = await startDovecot([[USER, PASSWORD]], 'mailbox_list_index = yes\n');
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
    const watched = SCRIPT.flatMap((step) => ('watch' in step ? [step.watch] : []));
    const dovecotAnswers = answers.get('dovecot')!;
    const mallardAnswers = answers.get('mallard')!;
    watched.forEach((command, i) => {
      expect({ command, answer: mallardAnswers[i] }).toEqual({ command, answer: dovecotAnswers[i] });
    });
  });

  it('differs only where documented', async () => {
    for (const [side, port] of [
      ['dovecot', dovecot!.port],
      ['mallard', mallard!.imapPort],
    ] as const) {
      const client = await login(port);
      const badEvent = await client.command(
        't',
        'NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))',
      );
      const alone = await client.command('t', 'NOTIFY SET (personal (MessageNew))');
      client.close();
      if (side === 'dovecot') {
        expect(badEvent).toMatch(/^t NO \[BADEVENT AnnotationChange\] /m);
        expect(alone).toMatch(/^t OK /m);
      } else {
        expect(badEvent).toMatch(/^t NO \[BADEVENT \(MessageNew MessageExpunge FlagChange MailboxName /m);
        expect(alone).toMatch(/^t BAD /m);
      }
    }
  });
});
