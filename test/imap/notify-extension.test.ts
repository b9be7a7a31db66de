/**
 * NOTIFY (RFC 5465) transcripts on each store engine (the embedded one and the MongoDB stand-in):
 * the RFC's own examples (3.1, 5.2, 5.4, 5.5), a second session changing other mailboxes while the
 * NOTIFY session IDLEs or sends NOOP, its own changes (not notified back), the selected filter's
 * NONE, NOTIFY NONE, overflow, and the errors (BAD for broken syntax and event combinations,
 * NO [BADEVENT] for unsupported events).
 * (test/imap/notify.test.ts is about something else: cross-session updates of one mailbox.)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PENDING } from '../../server/imap/notify.ts';
import { closeClients, loggedIn, newAccount, rawMessage, type Account } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import type { RawImap } from '../helpers/imap-raw.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';
import { addUser, openMongo } from '../mongodb/support.ts';
import { Cluster } from '../workers/cluster.ts';

const MESSAGE_EVENTS = 'MessageNew MessageExpunge FlagChange';
const EVERYTHING = `${MESSAGE_EVENTS} MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange`;

describe.each(['sqlite', 'mongodb'] as const)('NOTIFY (RFC 5465) on %s', (engine) => {
  let server: TestServer;
  let mongo: MongoStandIn | null = null;

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = {};
    if (engine === 'mongodb') {
      mongo = await startMongoStandIn();
      env.MALLARD_STORE_ENGINE = 'mongodb';
      env.MALLARD_STORE_MONGODB_URI = freshDatabaseUri(mongo.uri);
    }
    server = await startTestServer(env);
  }, 120_000);
  afterEach(() => closeClients());
  afterAll(async () => {
    await server?.stop();
    await mongo?.stop();
  }, 60_000);

  /** Two sessions of a new account: `watcher` for NOTIFY, `actor` to change things. */
  async function twoSessions(): Promise<{ account: Account; watcher: LineClient; actor: LineClient }> {
    const account = await newAccount(server);
    return { account, watcher: await loggedIn(account), actor: await loggedIn(account) };
  }

  async function appendTo(actor: LineClient, mailbox: string, subject: string): Promise<void> {
    const message = rawMessage(subject);
    actor.send(`ap APPEND ${mailbox} {${message.length}+}\r\n`);
    actor.send(Buffer.concat([message, Buffer.from('\r\n')]));
    expect(await actor.readUntil(/^ap (OK|NO|BAD)/)).toMatch(/^ap OK /m);
  }

  async function idle(client: LineClient, tag = 'I'): Promise<void> {
    client.send(`${tag} IDLE\r\n`);
    await client.readUntil(/^\+ /);
  }

  async function done(client: LineClient, tag = 'I'): Promise<string> {
    client.send('DONE\r\n');
    return client.readUntil(new RegExp(`^${tag} OK`));
  }

  it('advertises NOTIFY', async () => {
    const { watcher } = await twoSessions();
    expect(await watcher.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* NOTIFY[ \r]/m);
  });

  it('RFC 5465 3.1: NOTIFY SET STATUS answers STATUS for the watched mailboxes, then new mail as asked', async () => {
    const { watcher, actor } = await twoSessions();
    for (const name of ['Lists', 'Lists/Rust', 'Other'])
      expect(await actor.command('c', `CREATE ${name}`)).toMatch(/^c OK/m);
    await appendTo(actor, 'Lists/Rust', 'first');
    expect(await watcher.command('s', 'SELECT INBOX')).toMatch(/^s OK/m);
    const answer = await watcher.command(
      'a',
      'NOTIFY SET STATUS (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (From Subject)]) MessageExpunge)) (subtree Lists (MessageNew MessageExpunge))',
    );
    expect(answer).toMatch(
      /^\* STATUS "Lists" \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0\)\r\n\* STATUS "Lists\/Rust" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)\r\na OK NOTIFY completed\r\n$/,
    );
    // Another mailbox of the subtree: an unsolicited STATUS; one outside it: nothing.
    await appendTo(actor, 'Other', 'elsewhere');
    await appendTo(actor, 'Lists/Rust', 'second');
    expect(await watcher.command('n', 'NOOP')).toMatch(
      /^\* STATUS "Lists\/Rust" \(MESSAGES 2 UIDNEXT 3 UIDVALIDITY \d+ UNSEEN 2\)\r\nn OK NOOP completed\r\n$/,
    );
    // RFC 5465 5.2: the selected mailbox's new message, EXISTS then FETCH with what was asked.
    await appendTo(actor, 'INBOX', 'hello');
    const noop = await watcher.command('n2', 'NOOP');
    expect(noop).toMatch(/^\* 1 EXISTS\r\n/);
    expect(noop).toMatch(
      /^\* 1 FETCH \(UID 1 BODY\[HEADER\.FIELDS \(FROM SUBJECT\)\] \{\d+\}\r\nFrom: a@example\.test\r\nSubject: hello\r\n\r\n\)\r\n/m,
    );
    // BODY.PEEK: the message stays unseen.
    expect(await watcher.command('f', 'FETCH 1 (FLAGS)')).toMatch(/^\* 1 FETCH \(FLAGS \(\\Recent\)\)/m);
  });

  it('pushes STATUS, LIST and METADATA while the client IDLEs, for changes another session makes', async () => {
    const { watcher, actor } = await twoSessions();
    expect(await actor.command('c', 'CREATE Work')).toMatch(/^c OK/m);
    expect(await watcher.command('a', `NOTIFY SET (personal (${EVERYTHING}))`)).toBe(
      'a OK NOTIFY completed\r\n',
    );
    await idle(watcher);
    // RFC 5465 5.4: created, renamed (with OLDNAME), deleted (\NonExistent).
    expect(await actor.command('c', 'CREATE Projects')).toMatch(/^c OK/m);
    expect(await watcher.readUntil(/^\* LIST/, 3000)).toBe('* LIST () "/" "Projects"\r\n');
    expect(await actor.command('r', 'RENAME Projects Done')).toMatch(/^r OK/m);
    expect(await watcher.readUntil(/^\* LIST/, 3000)).toBe(
      '* LIST () "/" "Done" ("OLDNAME" ("Projects"))\r\n',
    );
    expect(await actor.command('d', 'DELETE Done')).toMatch(/^d OK/m);
    expect(await watcher.readUntil(/^\* LIST/, 3000)).toBe('* LIST (\\NonExistent) "/" "Done"\r\n');
    // RFC 5465 5.5: subscription changes as LIST with or without \Subscribed.
    expect(await actor.command('s', 'SUBSCRIBE Work')).toMatch(/^s OK/m);
    expect(await watcher.readUntil(/^\* LIST/, 3000)).toBe('* LIST (\\Subscribed) "/" "Work"\r\n');
    expect(await actor.command('u', 'UNSUBSCRIBE Work')).toMatch(/^u OK/m);
    expect(await watcher.readUntil(/^\* LIST/, 3000)).toBe('* LIST () "/" "Work"\r\n');
    // RFC 5465 5.6 and 5.7: METADATA with the names of the entries changed.
    expect(await actor.command('m', 'SETMETADATA Work (/private/comment "mine" /shared/x NIL)')).toMatch(
      /^m OK/m,
    );
    expect(await watcher.readUntil(/^\* METADATA/, 3000)).toBe(
      '* METADATA "Work" /private/comment /shared/x\r\n',
    );
    expect(await actor.command('m', 'SETMETADATA "" (/private/vendor/x "1")')).toMatch(/^m OK/m);
    expect(await watcher.readUntil(/^\* METADATA/, 3000)).toBe('* METADATA "" /private/vendor/x\r\n');
    // Message events in another mailbox: STATUS (new, flags, expunge).
    await appendTo(actor, 'Work', 'one');
    expect(await watcher.readUntil(/^\* STATUS/, 3000)).toMatch(
      /^\* STATUS "Work" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)\r\n$/,
    );
    expect(await actor.command('s', 'SELECT Work')).toMatch(/^s OK/m);
    expect(await actor.command('f', 'STORE 1 +FLAGS (\\Seen \\Deleted)')).toMatch(/^f OK/m);
    expect(await watcher.readUntil(/^\* STATUS/, 3000)).toMatch(
      /^\* STATUS "Work" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 0\)/,
    );
    expect(await actor.command('e', 'EXPUNGE')).toMatch(/^e OK/m);
    expect(await watcher.readUntil(/^\* STATUS/, 3000)).toMatch(
      /^\* STATUS "Work" \(MESSAGES 0 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 0\)/,
    );
    expect(await done(watcher)).toBe('I OK IDLE terminated\r\n');
  });

  it('adds HIGHESTMODSEQ to the STATUS once CONDSTORE is on', async () => {
    const { watcher, actor } = await twoSessions();
    expect(await watcher.command('e', 'ENABLE CONDSTORE')).toMatch(/^e OK/m);
    expect(await watcher.command('a', `NOTIFY SET (inboxes (${MESSAGE_EVENTS}))`)).toMatch(/^a OK/m);
    await appendTo(actor, 'INBOX', 'counted');
    expect(await watcher.command('n', 'NOOP')).toMatch(
      /^\* STATUS INBOX \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1 HIGHESTMODSEQ \d+\)\r\nn OK/,
    );
  });

  it('watches the subscribed mailboxes as the subscription list changes (RFC 5465 6.4)', async () => {
    const { watcher, actor } = await twoSessions();
    for (const name of ['Watched', 'Ignored'])
      expect(await actor.command('c', `CREATE ${name}`)).toMatch(/^c OK/m);
    expect(await watcher.command('a', `NOTIFY SET (subscribed (${MESSAGE_EVENTS}))`)).toMatch(/^a OK/m);
    await appendTo(actor, 'Watched', 'before');
    expect(await actor.command('s', 'SUBSCRIBE Watched')).toMatch(/^s OK/m);
    await appendTo(actor, 'Ignored', 'never');
    await appendTo(actor, 'Watched', 'after');
    expect(await watcher.command('n', 'NOOP')).toMatch(
      /^\* STATUS "Watched" \(MESSAGES 2 UIDNEXT 3 UIDVALIDITY \d+ UNSEEN 2\)\r\nn OK NOOP completed\r\n$/,
    );
  });

  it('keeps the selected mailbox as the client saw it when the selected filter is NONE', async () => {
    const { watcher, actor } = await twoSessions();
    expect(await watcher.command('s', 'SELECT INBOX')).toMatch(/^s OK/m);
    expect(await watcher.command('a', 'NOTIFY SET (selected NONE) (personal (MailboxName))')).toMatch(
      /^a OK/m,
    );
    await idle(watcher);
    await appendTo(actor, 'INBOX', 'quiet');
    expect(await actor.command('c', 'CREATE Marker')).toMatch(/^c OK/m);
    // The journal gives the append first: an EXISTS pushed in IDLE would come before the LIST.
    expect(await watcher.readUntil(/^\* LIST/, 3000)).toBe('* LIST () "/" "Marker"\r\n');
    // Nor at the end of a command: the client keeps the mailbox as it saw it (Dovecot does the
    // same), until a NOTIFY that asks for it, whose implicit NOOP reports what accumulated.
    expect(await done(watcher)).toBe('I OK IDLE terminated\r\n');
    expect(await watcher.command('n', 'NOOP')).toBe('n OK NOOP completed\r\n');
    expect(await watcher.command('b', 'NOTIFY SET (selected (MessageNew MessageExpunge))')).toBe(
      '* 1 EXISTS\r\n* 1 RECENT\r\nb OK NOTIFY completed\r\n',
    );
  });

  it('still reports the own EXPUNGE of the client when the selected filter is NONE', async () => {
    const { watcher, actor } = await twoSessions();
    await appendTo(actor, 'INBOX', 'mine');
    expect(await watcher.command('s', 'SELECT INBOX')).toMatch(/^\* 1 EXISTS/m);
    expect(await watcher.command('a', 'NOTIFY SET (selected NONE) (personal (MailboxName))')).toMatch(
      /^a OK/m,
    );
    expect(await watcher.command('f', 'STORE 1 +FLAGS (\\Deleted)')).toMatch(
      /^\* 1 FETCH \(FLAGS \(.*\\Deleted/m,
    );
    expect(await watcher.command('e', 'EXPUNGE')).toBe('* 1 EXPUNGE\r\ne OK EXPUNGE completed\r\n');
  });

  it('pushes the selected mailbox as usual with (selected (MessageNew MessageExpunge FlagChange))', async () => {
    const { watcher, actor } = await twoSessions();
    expect(await watcher.command('s', 'SELECT INBOX')).toMatch(/^s OK/m);
    expect(await watcher.command('a', `NOTIFY SET (selected-delayed (${MESSAGE_EVENTS}))`)).toMatch(/^a OK/m);
    await idle(watcher);
    await appendTo(actor, 'INBOX', 'pushed');
    expect(await watcher.readUntil(/^\* 1 EXISTS/, 3000)).toMatch(/EXISTS/);
    expect(await done(watcher)).toMatch(/I OK/m);
  });

  it('NOTIFY NONE stops the notifications', async () => {
    const { watcher, actor } = await twoSessions();
    expect(await watcher.command('a', `NOTIFY SET (personal (${EVERYTHING}))`)).toMatch(/^a OK/m);
    expect(await actor.command('c', 'CREATE Seen1')).toMatch(/^c OK/m);
    expect(await watcher.command('n', 'NOOP')).toBe('* LIST () "/" "Seen1"\r\nn OK NOOP completed\r\n');
    expect(await watcher.command('b', 'NOTIFY NONE')).toBe('b OK NOTIFY completed\r\n');
    expect(await actor.command('c', 'CREATE Unseen1')).toMatch(/^c OK/m);
    await appendTo(actor, 'INBOX', 'unseen');
    expect(await watcher.command('n', 'NOOP')).toBe('n OK NOOP completed\r\n');
  });

  it('does not notify a session of its own changes (RFC 5465 5), but of the same by another', async () => {
    const { watcher, actor } = await twoSessions();
    expect(await watcher.command('c', 'CREATE Other')).toMatch(/^c OK/m);
    for (const subject of ['one', 'two', 'three']) await appendTo(watcher, 'INBOX', subject);
    expect(await watcher.command('s', 'SELECT INBOX')).toMatch(/^s OK/m);
    expect(
      await watcher.command('a', `NOTIFY SET (selected (${MESSAGE_EVENTS})) (personal (${EVERYTHING}))`),
    ).toMatch(/^a OK/m);
    const replacement = rawMessage('replacement');
    const own = [
      'CREATE Lists/Rust',
      'RENAME Lists Archive',
      'SUBSCRIBE Archive/Rust',
      'SETMETADATA Archive/Rust (/private/comment "mine")',
      'SETMETADATA "" (/private/comment "mine")',
      'COPY 1 Other',
      'MOVE 1 Other',
      `REPLACE 1 Other {${replacement.length}+}\r\n${replacement.toString('latin1')}`,
      'UNSUBSCRIBE Archive/Rust',
      'DELETE Archive/Rust',
      'RENAME INBOX Old',
    ];
    for (const command of own) {
      const answer = (await watcher.command('o', command)) + (await watcher.command('n', 'NOOP'));
      expect({ command, answer }).toEqual({
        command,
        answer: expect.not.stringMatching(/^\* (STATUS|LIST|METADATA) /m) as unknown,
      });
    }
    await appendTo(watcher, 'Other', 'own');
    expect(await watcher.command('n', 'NOOP')).toBe('n OK NOOP completed\r\n');
    // The same kinds of change by another session are told.
    await appendTo(actor, 'Other', 'theirs');
    expect(await watcher.command('n', 'NOOP')).toMatch(/^\* STATUS "Other" \(MESSAGES 5 /m);
    expect(await actor.command('c', 'CREATE Archive/Rust')).toMatch(/^c OK/m);
    expect(await watcher.command('n', 'NOOP')).toBe(
      '* LIST () "/" "Archive/Rust"\r\nn OK NOOP completed\r\n',
    );
  });

  it('refuses unsupported events with NO [BADEVENT] and broken commands with BAD', async () => {
    const { watcher } = await twoSessions();
    const supported =
      'BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange)';
    expect(
      await watcher.command('a', 'NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))'),
    ).toBe(`a NO [${supported}] Event AnnotationChange is not supported\r\n`);
    expect(await watcher.command('b', 'NOTIFY SET (personal (Frobnicate))')).toBe(
      `b NO [${supported}] Event Frobnicate is not supported\r\n`,
    );
    const bad: Array<[string, RegExp]> = [
      ['NOTIFY', /Missing SET or NONE/],
      ['NOTIFY SET', /Missing event groups/],
      ['NOTIFY MAYBE (personal (MailboxName))', /Expected SET or NONE/],
      ['NOTIFY SET (personal)', /Missing events|space before events/],
      ['NOTIFY SET (nowhere (MailboxName))', /Unknown mailbox filter NOWHERE/],
      ['NOTIFY SET (subtree (MailboxName))', /./],
      ['NOTIFY SET (personal (MailboxName)', /\) after the events|Missing/],
      ['NOTIFY SET (personal ())', /Empty event list/],
      ['NOTIFY NONE extra', /extra arguments/],
      ['NOTIFY SET (personal (MessageNew))', /MessageNew and MessageExpunge must be given together/],
      ['NOTIFY SET (personal (MessageExpunge FlagChange))', /together/],
      ['NOTIFY SET (personal (FlagChange))', /FlagChange needs MessageNew and MessageExpunge/],
      ['NOTIFY SET (selected (MailboxName))', /MailboxName cannot be asked for the selected mailbox/],
      [
        'NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))',
        /Only one of selected and selected-delayed/,
      ],
      ['NOTIFY SET (selected (MessageNew (BODY[]) MessageExpunge))', /must not set \\Seen/],
    ];
    for (const [index, [command, text]] of bad.entries()) {
      const answer = await watcher.command(`x${index}`, command);
      expect(answer, command).toMatch(new RegExp(`^x${index} BAD `));
      expect(answer, command).toMatch(text);
    }
    // Still in good order afterwards.
    expect(await watcher.command('n', 'NOOP')).toBe('n OK NOOP completed\r\n');
  });

  it('says NOTIFICATIONOVERFLOW and behaves as NOTIFY NONE when notifications pile up', async () => {
    const { account, watcher } = await twoSessions();
    expect(await watcher.command('a', 'NOTIFY SET (personal (MailboxName))')).toMatch(/^a OK/m);
    const store = server.server.store;
    for (let index = 0; index <= MAX_PENDING; index++)
      await store.createMailbox(account.userId, `Many/${index}`);
    expect(await watcher.command('n', 'NOOP', 30_000)).toBe(
      '* OK [NOTIFICATIONOVERFLOW] Too many notifications waiting: NOTIFY NONE is in effect\r\nn OK NOOP completed\r\n',
    );
    await store.createMailbox(account.userId, 'After');
    expect(await watcher.command('n', 'NOOP')).toBe('n OK NOOP completed\r\n');
  }, 120_000);
});

/**
 * Across server processes: `mallard serve` with two workers, the NOTIFY session on one and the
 * changes made through the other, so only the store's journal can carry them.
 */
describe.each(['sqlite', 'mongodb'] as const)('NOTIFY across two worker processes on %s', (engine) => {
  const PASSWORD = 'correct horse';
  const USER = 'nina@example.test';
  let cluster: Cluster;
  let mongo: MongoStandIn | null = null;

  beforeAll(async () => {
    let options: Parameters<typeof Cluster.start>[0] = { workers: 2, accounts: { [USER]: PASSWORD } };
    if (engine === 'mongodb') {
      mongo = await startMongoStandIn();
      const uri = freshDatabaseUri(mongo.uri);
      options = {
        ...options,
        async createAccounts(accounts) {
          const store = await openMongo(uri);
          for (const [username, password] of Object.entries(accounts))
            await addUser(store, username, password);
          await store.close();
        },
        env: { MALLARD_STORE_ENGINE: 'mongodb', MALLARD_STORE_MONGODB_URI: uri },
      };
    }
    cluster = await Cluster.start(options);
  }, 180_000);
  afterAll(async () => {
    await cluster?.dispose();
    await mongo?.stop();
  }, 60_000);

  /** The next untagged line while IDLE, skipping keep-alives. */
  async function nextLine(client: RawImap): Promise<string> {
    for (;;) {
      const { text } = await client.readResponse(3000);
      if (!text.startsWith('* OK Still here')) return text;
    }
  }

  it('tells an IDLE session on one worker what a session on the other changes', async () => {
    const { first: watcher, second: actor, workers } = await cluster.twoSessions(USER, PASSWORD);
    expect(new Set(workers)).toEqual(new Set([1, 2]));
    await watcher.ok('SELECT INBOX');
    await watcher.ok(`NOTIFY SET (selected (${MESSAGE_EVENTS})) (personal (${EVERYTHING}))`);
    watcher.write('i IDLE\r\n');
    expect((await watcher.readResponse()).text).toMatch(/^\+ /);

    await actor.ok('CREATE Shared');
    expect(await nextLine(watcher)).toBe('* LIST () "/" "Shared"');
    await actor.ok('SUBSCRIBE Shared');
    expect(await nextLine(watcher)).toBe('* LIST (\\Subscribed) "/" "Shared"');
    await actor.ok('SETMETADATA Shared (/private/comment "from the other worker")');
    expect(await nextLine(watcher)).toBe('* METADATA "Shared" /private/comment');
    await actor.ok('APPEND Shared ', rawMessage('elsewhere'));
    expect(await nextLine(watcher)).toMatch(
      /^\* STATUS "Shared" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)$/,
    );
    // The selected mailbox as usual: EXISTS, then FETCH for a flag change, then EXPUNGE.
    await actor.ok('APPEND INBOX ', rawMessage('here'));
    expect(await nextLine(watcher)).toBe('* 1 EXISTS');
    await actor.ok('SELECT INBOX');
    await actor.ok('STORE 1 +FLAGS (\\Flagged)');
    let line = await nextLine(watcher);
    if (line === '* 1 RECENT') line = await nextLine(watcher);
    expect(line).toMatch(/^\* 1 FETCH \(UID 1 FLAGS \(.*\\Flagged.*\)\)$/);
    await actor.ok('STORE 1 +FLAGS (\\Deleted)');
    expect(await nextLine(watcher)).toMatch(/^\* 1 FETCH \(UID 1 FLAGS \(.*\\Deleted.*\)\)$/);
    await actor.ok('EXPUNGE');
    expect(await nextLine(watcher)).toBe('* 1 EXPUNGE');
    await actor.ok('RENAME Shared Kept');
    expect(await nextLine(watcher)).toBe('* LIST () "/" "Kept" ("OLDNAME" ("Shared"))');
    watcher.write('DONE\r\n');
    expect(await watcher.readTagged('i')).toMatchObject({ status: 'OK' });
  }, 60_000);
});
