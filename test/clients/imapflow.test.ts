/**
 * imapflow (the Node IMAP client most Node mail software uses) against a live Mallard server: every
 * call a mail client makes in a session, checked against the store byte for byte where bytes matter.
 */
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Mailbox } from '../../server/store/types.ts';
import { newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
const clients = new Set<ImapFlow>();

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(() => {
  for (const client of clients) client.close();
  clients.clear();
});
afterAll(() => server.stop());

async function connect(account: Account, options: Partial<ImapFlowOptions> = {}): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: server.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user: account.username, pass: account.password },
    logger: false,
    disableAutoIdle: true,
    tls: { rejectUnauthorized: false },
    ...options,
  });
  clients.add(client);
  await client.connect();
  return client;
}

const store = () => server.server.store;

async function mailbox(account: Account, path: string): Promise<Mailbox> {
  const found = await store().getMailbox(account.userId, path);
  if (!found) throw new Error(`no mailbox ${path}`);
  return found;
}

/** The stored bytes of every message of a mailbox, by UID. */
async function storedBytes(account: Account, path: string): Promise<Map<number, Buffer>> {
  const box = await mailbox(account, path);
  const out = new Map<number, Buffer>();
  for (const message of await store().listMessages(box.id)) {
    out.set(message.uid, await store().readBlob(message.blobId));
  }
  return out;
}

const PLAIN = Buffer.from(
  'From: Alice Example <alice@example.org>\r\n' +
    'To: Bob <bob@example.net>, carol@example.com\r\n' +
    'Cc: dave@example.com\r\n' +
    'Subject: Lunch on Friday?\r\n' +
    'Date: Tue, 3 Jun 2025 11:59:58 +0200\r\n' +
    'Message-ID: <lunch@example.org>\r\n' +
    'In-Reply-To: <previous@example.net>\r\n' +
    '\r\n' +
    'Hi Bob, lunch on Friday at noon?\r\n',
);

const MULTIPART = Buffer.from(
  'From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.de>\r\n' +
    'To: team@example.org\r\n' +
    'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and a file\r\n' +
    'Date: Wed, 4 Jun 2025 08:00:00 +0000\r\n' +
    'Message-ID: <multi@example.de>\r\n' +
    'MIME-Version: 1.0\r\n' +
    'Content-Type: multipart/mixed; boundary="b1"\r\n' +
    '\r\n' +
    '--b1\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    'Content-Transfer-Encoding: 8bit\r\n' +
    '\r\n' +
    'Grüße aus München\r\n' +
    '--b1\r\n' +
    'Content-Type: application/pdf; name="menu.pdf"\r\n' +
    'Content-Disposition: attachment; filename="menu.pdf"\r\n' +
    'Content-Transfer-Encoding: base64\r\n' +
    '\r\n' +
    'JVBERi0xLjQKJcOkw7zDtsOfCg==\r\n' +
    '--b1--\r\n',
);

const THIRD = Buffer.from(
  'From: news@example.com\r\nTo: bob@example.net\r\nSubject: Weekly digest\r\n' +
    'Date: Thu, 5 Jun 2025 07:00:00 +0000\r\nMessage-ID: <digest@example.com>\r\n\r\n' +
    `${'A line of the weekly digest.\r\n'.repeat(200)}`,
);

describe('imapflow: connecting', () => {
  it('logs in in clear text on loopback (no STARTTLS) and logs out', async () => {
    const account = await newAccount(server);
    const client = await connect(account);
    expect(client.secureConnection).toBe(false);
    expect(client.authenticated).toBeTruthy();
    expect(client.capabilities.has('IMAP4rev1')).toBe(true);
    expect(client.capabilities.has('IDLE')).toBe(true);
    expect(client.capabilities.has('CONDSTORE')).toBe(true);
    expect(client.usable).toBe(true);
    await client.logout();
    expect(client.usable).toBe(false);
  });

  it('upgrades with STARTTLS when asked to', async () => {
    const account = await newAccount(server);
    const client = await connect(account, { doSTARTTLS: true });
    expect(client.secureConnection).toBe(true);
    expect(client.capabilities.has('STARTTLS')).toBe(false);
    await client.noop();
    await client.logout();
  });

  it('connects with implicit TLS to the TLS port', async () => {
    const account = await newAccount(server);
    const client = await connect(account, { port: server.imapsPort, secure: true, doSTARTTLS: undefined });
    expect(client.secureConnection).toBe(true);
    expect(client.authenticated).toBeTruthy();
    await client.logout();
  });

  it('is refused with a wrong password', async () => {
    const account = await newAccount(server);
    await expect(connect({ ...account, password: 'wrong' })).rejects.toThrow();
  });
});

describe('imapflow: mailboxes', () => {
  it('lists the default mailboxes with special-use flags, and nested ones', async () => {
    const account = await newAccount(server);
    const client = await connect(account);
    await client.mailboxCreate(['Projects', '2026']);
    const list = await client.list();
    const byPath = new Map(list.map((entry) => [entry.path, entry]));
    expect([...byPath.keys()].sort()).toEqual(
      ['Archive', 'Drafts', 'INBOX', 'Junk', 'Projects', 'Projects/2026', 'Sent', 'Trash'].sort(),
    );
    expect(byPath.get('INBOX')!.specialUse).toBe('\\Inbox');
    expect(byPath.get('Sent')!.specialUse).toBe('\\Sent');
    expect(byPath.get('Trash')!.specialUse).toBe('\\Trash');
    expect(byPath.get('Archive')!.specialUse).toBe('\\Archive');
    expect(byPath.get('Projects/2026')!.delimiter).toBe('/');
    expect(byPath.get('Projects/2026')!.parentPath).toBe('Projects');
    expect(byPath.get('Projects')!.flags.has('\\HasChildren')).toBe(true);
    const tree = await client.listTree();
    const projects = tree.folders?.find((folder) => folder.path === 'Projects');
    expect(projects?.folders?.map((folder) => folder.path)).toEqual(['Projects/2026']);
    await client.logout();
  });

  it('creates and lists mailboxes with non-ASCII names (modified UTF-7 on the wire)', async () => {
    const account = await newAccount(server);
    const client = await connect(account);
    const created = await client.mailboxCreate(['Données', 'Über 2026']);
    expect(created.path).toBe('Données/Über 2026');
    expect(await store().getMailbox(account.userId, 'Données/Über 2026')).not.toBeNull();
    const listed = (await client.list()).map((entry) => entry.path);
    expect(listed).toEqual(expect.arrayContaining(['Données', 'Données/Über 2026']));
    await client.append('Données/Über 2026', PLAIN);
    const opened = await client.mailboxOpen('Données/Über 2026');
    expect(opened.exists).toBe(1);
    await client.logout();
  });

  it('answers STATUS with the store counts', async () => {
    const account = await newAccount(server);
    const inbox = await mailbox(account, 'INBOX');
    await store().append(inbox.id, PLAIN, { flags: ['\\Seen'] });
    await store().append(inbox.id, MULTIPART);
    const client = await connect(account);
    const status = await client.status('INBOX', {
      messages: true,
      unseen: true,
      uidNext: true,
      uidValidity: true,
      recent: true,
      highestModseq: true,
    });
    const current = (await store().getMailboxById(inbox.id))!;
    expect(status).toMatchObject({
      path: 'INBOX',
      messages: 2,
      unseen: 1,
      // imapflow turns IMAP4rev2 on, which has no \Recent (RFC 9051): it reports 0 without asking.
      recent: 0,
      uidNext: current.uidNext,
      uidValidity: BigInt(current.uidValidity),
      highestModseq: BigInt(current.highestModseq),
    });
    await client.logout();
  });

  it('opens a mailbox (SELECT) and read-only (EXAMINE)', async () => {
    const account = await newAccount(server);
    const inbox = await mailbox(account, 'INBOX');
    await store().append(inbox.id, PLAIN);
    const client = await connect(account);
    const opened = await client.mailboxOpen('INBOX');
    expect(opened.path).toBe('INBOX');
    expect(opened.exists).toBe(1);
    expect(opened.uidValidity).toBe(BigInt(inbox.uidValidity));
    expect(opened.uidNext).toBe(2);
    expect(opened.readOnly).toBeFalsy();
    expect(opened.permanentFlags?.has('\\*')).toBe(true);
    expect(typeof opened.highestModseq).toBe('bigint');
    await client.mailboxClose();
    const examined = await client.mailboxOpen('INBOX', { readOnly: true });
    expect(examined.readOnly).toBe(true);
    await client.logout();
  });
});

describe('imapflow: messages', () => {
  async function filled(): Promise<{ account: Account; client: ImapFlow; uids: number[] }> {
    const account = await newAccount(server);
    const client = await connect(account);
    const uids: number[] = [];
    const date = new Date(Date.UTC(2025, 5, 3, 10, 0, 0));
    for (const [raw, flags] of [
      [PLAIN, ['\\Seen']],
      [MULTIPART, ['\\Flagged', '$Work']],
      [THIRD, []],
    ] as const) {
      const result = await client.append('INBOX', raw, [...flags], date);
      expect(result).not.toBe(false);
      if (result === false) throw new Error('append failed');
      expect(result.destination).toBe('INBOX');
      expect(result.uidValidity).toBe(BigInt((await mailbox(account, 'INBOX')).uidValidity));
      uids.push(result.uid!);
    }
    expect(uids).toEqual([1, 2, 3]);
    await client.mailboxOpen('INBOX');
    return { account, client, uids };
  }

  it('appends (with APPENDUID) and fetches source, envelope, structure, flags and UIDs', async () => {
    const { account, client } = await filled();
    const stored = await storedBytes(account, 'INBOX');
    expect(stored.get(1)!.equals(PLAIN)).toBe(true);
    expect(stored.get(2)!.equals(MULTIPART)).toBe(true);

    const messages = await client.fetchAll('1:*', {
      uid: true,
      flags: true,
      source: true,
      envelope: true,
      bodyStructure: true,
      internalDate: true,
      size: true,
    });
    expect(messages.map((m) => m.uid)).toEqual([1, 2, 3]);
    for (const message of messages) {
      expect(message.source!.equals(stored.get(message.uid)!)).toBe(true);
      expect(message.size).toBe(stored.get(message.uid)!.length);
      expect((message.internalDate as Date).toISOString()).toBe('2025-06-03T10:00:00.000Z');
    }
    const [plain, multi, third] = messages;
    // imapflow turns IMAP4rev2 on: no \Recent, though this session is the first to select INBOX.
    expect([...plain!.flags!].sort()).toEqual(['\\Seen']);
    expect([...multi!.flags!].sort()).toEqual(['$Work', '\\Flagged']);
    expect([...third!.flags!]).toEqual([]);

    expect(plain!.envelope).toMatchObject({
      subject: 'Lunch on Friday?',
      messageId: '<lunch@example.org>',
      inReplyTo: '<previous@example.net>',
      from: [{ name: 'Alice Example', address: 'alice@example.org' }],
      to: [{ name: 'Bob', address: 'bob@example.net' }, { address: 'carol@example.com' }],
      cc: [{ address: 'dave@example.com' }],
    });
    expect(new Date(plain!.envelope!.date!).toISOString()).toBe('2025-06-03T09:59:58.000Z');
    expect(multi!.envelope).toMatchObject({
      subject: 'Grüße and a file',
      from: [{ name: 'Jörg', address: 'joerg@example.de' }],
    });
    expect(plain!.bodyStructure).toMatchObject({ type: 'text/plain', size: 34, lineCount: 1 });
    expect(multi!.bodyStructure).toMatchObject({
      type: 'multipart/mixed',
      parameters: { boundary: 'b1' },
      childNodes: [
        { part: '1', type: 'text/plain', parameters: { charset: 'utf-8' }, encoding: '8bit' },
        {
          part: '2',
          type: 'application/pdf',
          encoding: 'base64',
          disposition: 'attachment',
          dispositionParameters: { filename: 'menu.pdf' },
        },
      ],
    });

    const one = await client.fetchOne('2', { bodyParts: ['1', '2'], headers: ['subject'] });
    if (one === false) throw new Error('fetchOne failed');
    expect(one.bodyParts!.get('1')!.toString()).toBe('Grüße aus München');
    expect(one.bodyParts!.get('2')!.toString()).toBe('JVBERi0xLjQKJcOkw7zDtsOfCg==');
    expect(one.headers!.toString()).toBe('Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and a file\r\n\r\n');
    const download = await client.download('2', '2');
    const chunks: Buffer[] = [];
    if (!download.content) throw new Error('no download');
    for await (const chunk of download.content) chunks.push(chunk as Buffer);
    // download() decodes the transfer encoding: the attachment's own bytes.
    expect(Buffer.concat(chunks).equals(Buffer.from('JVBERi0xLjQKJcOkw7zDtsOfCg==', 'base64'))).toBe(true);
    await client.logout();
  });

  it('searches', async () => {
    const { client } = await filled();
    expect(await client.search({ subject: 'lunch' }, { uid: true })).toEqual([1]);
    expect(await client.search({ from: 'joerg@example.de' }, { uid: true })).toEqual([2]);
    expect(await client.search({ seen: false }, { uid: true })).toEqual([2, 3]);
    expect(await client.search({ flagged: true, keyword: '$Work' }, { uid: true })).toEqual([2]);
    expect(await client.search({ body: 'weekly digest' }, { uid: true })).toEqual([3]);
    expect(await client.search({ body: 'München' }, { uid: true })).toEqual([2]);
    expect(await client.search({ subject: 'Grüße' }, { uid: true })).toEqual([2]);
    expect(await client.search({ or: [{ to: 'team@example.org' }, { cc: 'dave' }] }, { uid: true })).toEqual([
      1, 2,
    ]);
    expect(await client.search({ not: { from: 'example.org' } }, { uid: true })).toEqual([2, 3]);
    expect(await client.search({ larger: 2000 }, { uid: true })).toEqual([3]);
    expect(await client.search({ sentSince: new Date('2025-06-04T00:00:00Z') }, { uid: true })).toEqual([
      2, 3,
    ]);
    expect(await client.search({ uid: '2:*' }, { uid: true })).toEqual([2, 3]);
    expect(await client.search({ header: { 'message-id': '<digest@example.com>' } }, { uid: true })).toEqual([
      3,
    ]);
    expect(await client.search({ all: true })).toEqual([1, 2, 3]);
    await client.logout();
  });

  it('adds and removes flags, visible in the store and in FETCH', async () => {
    const { account, client } = await filled();
    const inbox = await mailbox(account, 'INBOX');
    expect(await client.messageFlagsAdd('1:2', ['\\Answered', 'Important'], { uid: true })).toBe(true);
    expect(await client.messageFlagsRemove('2', ['\\Flagged'], { uid: true })).toBe(true);
    expect(await client.messageFlagsAdd({ uid: '3' }, ['\\Seen'])).toBe(true);
    const flags = Object.fromEntries(
      (await store().listMessages(inbox.id)).map((m) => [m.uid, [...m.flags].sort()]),
    );
    expect(flags).toEqual({
      1: ['Important', '\\Answered', '\\Seen'],
      2: ['$Work', 'Important', '\\Answered'],
      3: ['\\Seen'],
    });
    const fetched = await client.fetchAll('1:*', { uid: true, flags: true });
    const withoutRecent = (set: Set<string>) => [...set].filter((flag) => flag !== '\\Recent').sort();
    expect(Object.fromEntries(fetched.map((m) => [m.uid, withoutRecent(m.flags!)]))).toEqual(flags);
    expect(await client.messageFlagsSet('1', ['\\Draft'], { uid: true })).toBe(true);
    expect((await store().getMessage(inbox.id, 1))!.flags).toEqual(['\\Draft']);
    await client.logout();
  });

  it('copies, moves and deletes with UIDPLUS answers', async () => {
    const { account, client } = await filled();
    const before = await storedBytes(account, 'INBOX');
    await client.mailboxCreate('Projects/2026');

    const copied = await client.messageCopy('1:2', 'Archive', { uid: true });
    if (copied === false) throw new Error('copy failed');
    expect(copied.destination).toBe('Archive');
    expect([...copied.uidMap!.entries()]).toEqual([
      [1, 1],
      [2, 2],
    ]);
    const archive = await storedBytes(account, 'Archive');
    expect(archive.get(1)!.equals(before.get(1)!)).toBe(true);
    expect(archive.get(2)!.equals(before.get(2)!)).toBe(true);

    const moved = await client.messageMove('3', 'Projects/2026', { uid: true });
    if (moved === false) throw new Error('move failed');
    expect([...moved.uidMap!.entries()]).toEqual([[3, 1]]);
    expect((await storedBytes(account, 'Projects/2026')).get(1)!.equals(before.get(3)!)).toBe(true);
    expect([...(await storedBytes(account, 'INBOX')).keys()]).toEqual([1, 2]);
    expect(client.mailbox && client.mailbox.exists).toBe(2);

    expect(await client.messageDelete('1', { uid: true })).toBe(true);
    expect([...(await storedBytes(account, 'INBOX')).keys()]).toEqual([2]);
    expect(client.mailbox && client.mailbox.exists).toBe(1);
    const status = await client.status('Archive', { messages: true });
    expect(status && status.messages).toBe(2);
    await client.logout();
  });

  it('hears an APPEND from a second client as an exists event while idling, within a second', async () => {
    const account = await newAccount(server);
    const watcher = await connect(account);
    await watcher.mailboxOpen('INBOX');
    const exists = new Promise<{ count: number; at: number }>((resolve) => {
      watcher.on('exists', (event: { count: number }) => resolve({ count: event.count, at: Date.now() }));
    });
    const idling = watcher.idle();
    // Let IDLE reach the server before the other client appends.
    const deadline = Date.now() + 2000;
    while (!watcher.idling && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(watcher.idling).toBe(true);

    const writer = await connect(account);
    await writer.append('INBOX', PLAIN);
    const appendedAt = Date.now();
    const event = await Promise.race([
      exists,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 3000)),
    ]);
    expect(event, 'no exists event within 3 s').not.toBeNull();
    expect(event!.count).toBe(1);
    expect(event!.at - appendedAt).toBeLessThan(1000);

    // A command ends IDLE (imapflow sends DONE), and the session carries on.
    const fetched = await watcher.fetchOne('1', { uid: true, envelope: true });
    expect(fetched && fetched.envelope!.subject).toBe('Lunch on Friday?');
    await idling;
    await writer.logout();
    await watcher.logout();
  });

  it('hears flag changes and expunges made by a second client while idling, within a second', async () => {
    const { account, client: watcher } = await filled();
    const flags: Array<{ seq: number; flags: string[]; at: number }> = [];
    const expunges: Array<{ seq?: number; at: number }> = [];
    watcher.on('flags', (event: { seq: number; flags: Set<string> }) =>
      flags.push({ seq: event.seq, flags: [...event.flags].sort(), at: Date.now() }),
    );
    watcher.on('expunge', (event: { seq?: number }) => expunges.push({ seq: event.seq, at: Date.now() }));
    const idling = watcher.idle();
    const deadline = Date.now() + 2000;
    while (!watcher.idling && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(watcher.idling).toBe(true);

    const other = await connect(account);
    await other.mailboxOpen('INBOX');
    await other.messageFlagsAdd('3', ['\\Flagged'], { uid: true });
    const flaggedAt = Date.now();
    const waitFor = async (done: () => boolean) => {
      const until = Date.now() + 3000;
      while (!done() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await waitFor(() => flags.length > 0);
    expect(flags[0], 'no flags event within 3 s').toBeDefined();
    expect(flags[0]!.seq).toBe(3);
    expect(flags[0]!.flags.filter((f) => f !== '\\Recent')).toEqual(['\\Flagged']);
    expect(flags[0]!.at - flaggedAt).toBeLessThan(1000);

    await other.messageDelete('1', { uid: true });
    const deletedAt = Date.now();
    await waitFor(() => expunges.length > 0);
    expect(expunges[0], 'no expunge event within 3 s').toBeDefined();
    expect(expunges[0]!.seq).toBe(1);
    expect(expunges[0]!.at - deletedAt).toBeLessThan(1000);

    const left = await watcher.fetchAll('1:*', { uid: true });
    expect(left.map((m) => m.uid)).toEqual([2, 3]);
    await idling;
    await other.logout();
    await watcher.logout();
  });

  it('gives the same bytes with and without COMPRESS=DEFLATE, for a large message too', async () => {
    const account = await newAccount(server);
    const big = Buffer.concat([
      Buffer.from('From: big@example.org\r\nSubject: big\r\nMessage-ID: <big@example.org>\r\n\r\n'),
      Buffer.from(
        Array.from({ length: 60_000 }, (_, i) => `line ${i} ${'abcdefghij'.repeat(i % 9)}\r\n`).join(''),
      ),
    ]);
    const compressed = await connect(account);
    const plain = await connect(account, { disableCompression: true });
    const appended = await compressed.append('INBOX', big);
    expect(appended && appended.uid).toBe(1);
    for (const client of [compressed, plain]) {
      await client.mailboxOpen('INBOX');
      const message = await client.fetchOne('1', { source: true, size: true }, { uid: true });
      if (message === false) throw new Error('no message');
      expect(message.size).toBe(big.length);
      expect(message.source!.equals(big)).toBe(true);
      await client.logout();
    }
    const inbox = await mailbox(account, 'INBOX');
    const [stored] = await store().listMessages(inbox.id);
    expect((await store().readBlob(stored!.blobId)).equals(big)).toBe(true);
  });

  it('renames, subscribes and deletes mailboxes', async () => {
    const account = await newAccount(server);
    const client = await connect(account);
    await client.mailboxCreate('Projects/2026');
    await store().append((await mailbox(account, 'Projects/2026')).id, PLAIN);
    const renamed = await client.mailboxRename('Projects', 'Work');
    expect(renamed.newPath).toBe('Work');
    expect((await client.list()).map((entry) => entry.path).filter((p) => p.startsWith('Work'))).toEqual([
      'Work',
      'Work/2026',
    ]);
    const moved = await store().listMessages((await mailbox(account, 'Work/2026')).id);
    expect(moved).toHaveLength(1);
    // Subscriptions are the client's: creating a mailbox subscribed nothing.
    expect(await client.mailboxSubscribe('Work')).toBe(true);
    expect(await client.mailboxSubscribe('Work/2026')).toBe(true);
    expect(await client.mailboxUnsubscribe('Work/2026')).toBe(true);
    const subscribed = await client.list({ statusQuery: { messages: true } });
    expect(subscribed.find((entry) => entry.path === 'Work')!.subscribed).toBe(true);
    expect(subscribed.find((entry) => entry.path === 'Work/2026')!.subscribed).toBeFalsy();
    expect((await mailbox(account, 'Work/2026')).subscribed).toBe(false);
    expect(subscribed.find((entry) => entry.path === 'Work/2026')!.status!.messages).toBe(1);
    await client.mailboxDelete('Work/2026');
    expect(await store().getMailbox(account.userId, 'Work/2026')).toBeNull();
    await expect(client.mailboxDelete('INBOX')).rejects.toThrow();
    await client.logout();
  });

  it('fetches only what changed since a MODSEQ (CONDSTORE)', async () => {
    const { client } = await filled();
    const base = client.mailbox && client.mailbox.highestModseq;
    expect(typeof base).toBe('bigint');
    await client.messageFlagsAdd('2', ['\\Seen'], { uid: true });
    const changed = await client.fetchAll(
      '1:*',
      { uid: true, flags: true },
      { changedSince: base as bigint },
    );
    expect(changed.map((m) => m.uid)).toEqual([2]);
    expect(changed[0]!.modseq).toBeGreaterThan(base as bigint);
    expect(await client.fetchAll('1:*', { uid: true }, { changedSince: changed[0]!.modseq! })).toEqual([]);
    // UNCHANGEDSINCE: a store guarded by an older MODSEQ is refused for that message.
    await client.messageFlagsAdd('2', ['$Later'], { uid: true, unchangedSince: base as bigint });
    const flags = await client.fetchOne('2', { flags: true }, { uid: true });
    expect(flags && flags.flags!.has('$Later')).toBe(false);
    await client.logout();
  });

  it('reports the storage quota', async () => {
    const account = await newAccount(server, 5 * 1024 * 1024);
    const inbox = await mailbox(account, 'INBOX');
    await store().append(inbox.id, THIRD);
    const client = await connect(account);
    const quota = await client.getQuota('INBOX');
    if (quota === false) throw new Error('no quota answer');
    const { usedBytes } = await store().getQuota(account.userId);
    expect(quota.storage).toMatchObject({
      limit: 5 * 1024 * 1024,
      usage: Math.ceil(usedBytes / 1024) * 1024,
    });
    await client.logout();
  });
});
