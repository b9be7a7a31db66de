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
 * A session's own changes (OWN_SCRIPT): RFC 5465 5 says the server SHOULD NOT notify a client of
 * events it caused itself (its command's reply told it already). Dovecot 2.3 does echo them, at
 * the session's next command (STATUS after its own APPEND or COPY into another mailbox, LIST after
 * its CREATE and SUBSCRIBE); Mallard does not. Those answers are compared with Dovecot's echo
 * lines taken out, and the echo checked to be there (so the difference stays known). The FETCH
 * that follows the session's own APPEND into the selected mailbox (MessageNew with FETCH items,
 * RFC 5465 5.2) is the same in both.
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
/** The account of OWN_SCRIPT (the names of SCRIPT are taken). */
const OWN_USER = 'own@example.test';
const MESSAGE = 'From: a@example.test\r\nSubject: oracle\r\n\r\nbody\r\n';

/**
 * `watch`: a command of the watching session, compared (APPEND sends MESSAGE); `echo`: Dovecot
 * answers it with the session's own earlier changes, Mallard without (see the top). `act`: a
 * command of the other session.
 */
type Step = { watch: string; echo?: boolean } | { act: string };

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

const OWN_SCRIPT: Step[] = [
  { act: 'CREATE Other' },
  { watch: 'SELECT INBOX' },
  {
    watch:
      'NOTIFY SET (selected (MessageNew (UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge FlagChange)) (personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))',
  },
  { watch: 'APPEND Other' },
  { watch: 'NOOP', echo: true },
  { watch: 'APPEND INBOX' },
  { watch: 'NOOP' },
  { watch: 'COPY 1 Other' },
  { watch: 'NOOP', echo: true },
  { watch: 'CREATE Third' },
  { watch: 'SUBSCRIBE Third' },
  { watch: 'NOOP', echo: true },
  // Another session's changes to the same mailboxes are still told.
  { act: 'APPEND Other' },
  { watch: 'NOOP' },
  { act: 'UNSUBSCRIBE Third' },
  { watch: 'NOOP' },
];

/** Lines that tell a session of its own change (Dovecot's echo). */
const ECHO = /^\* (STATUS|LIST) /;

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

async function login(port: number, user = USER): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.readUntil(/^\* OK/);
  expect(await client.command('l', `LOGIN ${user} "${PASSWORD}"`)).toMatch(/^l OK/m);
  return client;
}

/** A command and its answer (APPEND sends MESSAGE). */
async function send(client: LineClient, tag: string, command: string): Promise<string> {
  if (!command.startsWith('APPEND')) return client.command(tag, command);
  client.send(`${tag} ${command} {${MESSAGE.length}}\r\n`);
  await client.readUntil(/^\+/);
  client.send(`${MESSAGE}\r\n`);
  return client.readUntil(new RegExp(`^${tag} (OK|NO|BAD)`));
}

async function run(port: number, script: Step[], user = USER): Promise<string[][]> {
  const watcher = await login(port, user);
  const actor = await login(port, user);
  const answers: string[][] = [];
  for (const step of script) {
    if ('watch' in step) {
      answers.push(normalize(await send(watcher, 'w', step.watch)));
    } else {
      expect(await send(actor, 'a', step.act)).toMatch(/^a OK/m);
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
    const users: Array<[string, string]> = [
      [USER, PASSWORD],
      [OWN_USER, PASSWORD],
    ];
    dovecot = await startDovecot(users, 'mailbox_list_index = yes\n');
    mallard = await startTestServer();
    for (const [user, password] of users) await mallard.addUser(user, password);
    answers.set('dovecot', await run(dovecot.port, SCRIPT));
    answers.set('mallard', await run(mallard.imapPort, SCRIPT));
    answers.set('dovecot own', await run(dovecot.port, OWN_SCRIPT, OWN_USER));
    answers.set('mallard own', await run(mallard.imapPort, OWN_SCRIPT, OWN_USER));
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

  it('does not echo the session’s own changes, which Dovecot does at its next command', () => {
    const watched = OWN_SCRIPT.flatMap((step) => ('watch' in step ? [step] : []));
    const dovecotAnswers = answers.get('dovecot own')!;
    const mallardAnswers = answers.get('mallard own')!;
    watched.forEach((step, i) => {
      const echo = dovecotAnswers[i]!.filter((line) => ECHO.test(line));
      const dovecotAnswer = step.echo
        ? dovecotAnswers[i]!.filter((line) => !ECHO.test(line))
        : dovecotAnswers[i];
      if (step.echo) expect({ command: step.watch, echo }).not.toEqual({ command: step.watch, echo: [] });
      expect({ command: step.watch, answer: mallardAnswers[i] }).toEqual({
        command: step.watch,
        answer: dovecotAnswer,
      });
    });
    // The new message's FETCH after the own APPEND into the selected mailbox, and what the other
    // session changed, are there.
    expect(mallardAnswers.flat()).toContain(
      '* 1 FETCH (UID 1 FLAGS (\\Recent) BODY[HEADER.FIELDS (SUBJECT)] {19}',
    );
    expect(mallardAnswers.at(-2)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\* STATUS Other /)]),
    );
    expect(mallardAnswers.at(-1)).toEqual(['* LIST () "/" Third', 'w OK']);
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
