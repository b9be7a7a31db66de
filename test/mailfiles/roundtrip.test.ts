/**
 * Export → import round trip on both engines: a user's mailboxes (odd names: UTF-8, a dot, "&",
 * nested levels; special folders) with flags, keywords, internal dates and bodies that hold `From `
 * lines, exported as mbox and as Maildir and imported into fresh users; an IMAP client of each
 * user must see identical mailboxes, bytes exact. A second import of the same tar brings nothing.
 * Then Dovecot reads our Maildir export: `doveadm` lists the folders, flags and dates, and its IMAP
 * server serves the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportMail } from '../../server/export/export.ts';
import { importFiles } from '../../server/import/files.ts';
import { makeDataDir } from '../helpers/cli.ts';
import { dovecotAvailable, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { freshDatabaseUri } from '../helpers/mongo.ts';
import { mongoForTests } from '../helpers/mongo-suite.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'round-trip-password';
const SOURCE = 'alice@example.com';
const mongoBase = mongoForTests();

/** Folders beyond the defaults, and how many messages each gets. */
const FOLDERS: Array<[string, number]> = [
  ['INBOX', 40],
  ['Sent', 6],
  ['Lists/Dev & Ops', 8],
  ['Ärger.Q1/Ünter', 5],
  ['日本語', 3],
];

function messageText(folder: string, index: number): string {
  const lines = [
    `Return-Path: <sender${index}@example.net>`,
    `From: Sender ${index} <sender${index}@example.net>`,
    `To: ${SOURCE}`,
    `Subject: ${folder} #${index}`,
    `Message-ID: <${index}.${Buffer.from(folder).toString('hex')}@example.net>`,
    'Date: Tue, 3 Feb 2026 10:00:00 +0000',
    '',
    `Hello ${index}.`,
    // mbox must quote these and give them back exactly.
    'From the desk of the treasurer:',
    '>From a quoted line',
    '>>From deeper still',
    'From',
    '',
    'From ',
    `${'x'.repeat(index * 37)}`,
  ];
  return `${lines.join('\r\n')}\r\n`;
}

function flagsFor(index: number): string[] {
  const flags: string[] = [];
  if (index % 2 === 0) flags.push('\\Seen');
  if (index % 3 === 0) flags.push('\\Answered');
  if (index % 5 === 0) flags.push('\\Flagged');
  if (index % 7 === 0) flags.push('\\Draft');
  if (index % 4 === 0) flags.push('$Forwarded');
  if (index % 6 === 0) flags.push('project-x');
  if (index % 9 === 0) flags.push('$Junk');
  return flags;
}

async function fill(server: TestServer, userId: string, folders: Array<[string, number]>): Promise<void> {
  const store = server.server.store;
  for (const [folder, count] of folders) {
    const mailbox = (await store.getMailbox(userId, folder)) ?? (await store.createMailbox(userId, folder));
    for (let index = 1; index <= count; index++) {
      await store.append(mailbox.id, Buffer.from(messageText(folder, index)), {
        flags: flagsFor(index),
        internalDate: new Date(Date.UTC(2024, 1, 1) + index * 3_600_000 + 7_000),
      });
    }
  }
}

function imap(server: TestServer, user: string): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: server.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass: PASSWORD },
    logger: false,
    disableAutoIdle: true,
  });
}

interface Seen {
  sha256: string;
  flags: string[];
  internalDate: number;
}

/** What an IMAP client sees: every mailbox with its messages in UID order. */
async function mailboxesSeen(client: ImapFlow): Promise<Map<string, Seen[]>> {
  const seen = new Map<string, Seen[]>();
  for (const folder of await client.list()) {
    if (folder.flags.has('\\Noselect')) continue;
    const lock = await client.getMailboxLock(folder.path, { readOnly: true });
    try {
      const messages: Seen[] = [];
      if ((client.mailbox as { exists: number }).exists > 0) {
        for await (const m of client.fetch('1:*', {
          uid: true,
          flags: true,
          internalDate: true,
          source: true,
        })) {
          messages.push({
            sha256: createHash('sha256').update(m.source!).digest('hex'),
            flags: [...(m.flags ?? [])].filter((flag) => flag !== '\\Recent').sort(),
            internalDate: new Date(m.internalDate!).getTime(),
          });
        }
      }
      seen.set(folder.path, messages);
    } finally {
      lock.release();
    }
  }
  return seen;
}

async function seenBy(server: TestServer, user: string): Promise<Map<string, Seen[]>> {
  const client = imap(server, user);
  await client.connect();
  try {
    return await mailboxesSeen(client);
  } finally {
    await client.logout();
  }
}

describe.each(['sqlite', 'mongodb'] as const)('export and import round trip (%s)', (engine) => {
  let server: TestServer;
  let work: string;
  let original: Map<string, Seen[]>;

  beforeAll(async () => {
    work = makeDataDir('mallard-mailfiles-');
    server = await startTestServer(
      engine === 'mongodb'
        ? { MALLARD_STORE_ENGINE: 'mongodb', MALLARD_STORE_MONGODB_URI: freshDatabaseUri(mongoBase()) }
        : {},
    );
    const userId = await server.addUser(SOURCE, PASSWORD);
    await fill(server, userId, FOLDERS);
    original = await seenBy(server, SOURCE);
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  for (const format of ['mbox', 'maildir'] as const) {
    it(`gives identical mailboxes through ${format}`, async () => {
      const store = server.server.store;
      const source = (await store.getUserByUsername(SOURCE))!;
      const file = path.join(work, `${format}.tar`);
      const summary = await exportMail(store, source, { format }, fs.createWriteStream(file));
      const total = FOLDERS.reduce((sum, [, count]) => sum + count, 0);
      expect(summary.messages).toBe(total);

      const target = `${format}@example.com`;
      const targetId = await server.addUser(target, PASSWORD);
      const lines: string[] = [];
      const progress = await importFiles(store, {
        userId: targetId,
        source: file,
        maxMessageSize: server.config.limits.max_message_size,
        print: (line) => lines.push(line),
      });
      expect(progress.report()[0]).toMatch(new RegExp(`^imported ${total} messages`));
      expect(progress.skipped).toEqual([]);

      const imported = await seenBy(server, target);
      expect([...imported.keys()].sort()).toEqual([...original.keys()].sort());
      for (const [folder, messages] of original) expect(imported.get(folder), folder).toEqual(messages);

      // Again: everything is already there.
      const again = await importFiles(store, {
        userId: targetId,
        source: file,
        maxMessageSize: server.config.limits.max_message_size,
        print: () => {},
      });
      expect(again.imported).toBe(0);
      expect(again.duplicates).toBe(total);
      expect(await seenBy(server, target)).toEqual(imported);
    }, 180_000);
  }

  it('exports one mailbox alone, and says so for one that does not exist', async () => {
    const store = server.server.store;
    const source = (await store.getUserByUsername(SOURCE))!;
    const file = path.join(work, 'one.tar');
    const summary = await exportMail(
      store,
      source,
      { format: 'mbox', mailbox: 'Lists/Dev & Ops' },
      fs.createWriteStream(file),
    );
    expect(summary).toMatchObject({ folders: 1, messages: 8 });
    const listing = execFileSync('tar', ['tf', file], { encoding: 'utf8' });
    expect(listing.trim().split('\n')).toEqual(['mbox/Lists/Dev & Ops.mbox']);
    await expect(
      exportMail(
        store,
        source,
        { format: 'mbox', mailbox: 'Nope' },
        fs.createWriteStream(path.join(work, 'nope.tar')),
      ),
    ).rejects.toThrow(/no mailbox Nope/);
  });
});

describe.skipIf(!dovecotAvailable())('Dovecot reads our Maildir export', () => {
  let server: TestServer;
  let dovecot: DovecotServer;
  let original: Map<string, Seen[]>;
  const READER = 'reader@dovecot.example';

  beforeAll(async () => {
    server = await startTestServer();
    const userId = await server.addUser(SOURCE, PASSWORD);
    const store = server.server.store;
    // A "." inside a name cannot be one in Dovecot's Maildir++ (it is the level separator).
    await fill(
      server,
      userId,
      FOLDERS.map(([name, count]) => [name.replace('.', ' '), count]),
    );
    original = await seenBy(server, SOURCE);
    dovecot = await startDovecot([[READER, PASSWORD]]);
    const file = path.join(dovecot.dir, 'export.tar');
    await exportMail(
      store,
      (await store.getUserByUsername(SOURCE))!,
      { format: 'maildir' },
      fs.createWriteStream(file),
    );
    const home = path.join(dovecot.dir, 'mail', READER);
    fs.mkdirSync(home);
    execFileSync('tar', ['xf', file, '-C', home, '--strip-components=1']);
    execFileSync('chown', ['-R', '65534:65534', home]);
  }, 180_000);

  afterAll(async () => {
    await dovecot?.stop();
    await server?.stop();
  });

  function doveadm(args: string[]): string {
    return execFileSync('doveadm', ['-c', path.join(dovecot.dir, 'dovecot.conf'), ...args], {
      encoding: 'utf8',
    });
  }

  it('doveadm lists every folder, with each message, its flags and its date', () => {
    // Dovecot also lists "Lists", the level above "Lists.Dev & Ops" (no folder of its own on disk).
    const listed = doveadm(['mailbox', 'list', '-u', READER]).trim().split('\n').sort();
    expect(listed).toEqual([...original.keys()].map((name) => name.replaceAll('/', '.')).sort());
    const rows = JSON.parse(
      doveadm(['-f', 'json', 'fetch', '-u', READER, 'mailbox flags date.received.unixtime guid', 'ALL']),
    ) as Array<{
      mailbox: string;
      flags: string;
      'date.received.unixtime'?: string;
      'date.received'?: string;
    }>;
    const byFolder = new Map<string, Array<{ flags: string[]; date: number }>>();
    for (const row of rows) {
      const list = byFolder.get(row.mailbox.replaceAll('.', '/')) ?? [];
      list.push({
        flags: row.flags
          .split(' ')
          .filter((flag) => flag !== '' && flag !== '\\Recent')
          .sort(),
        date: Number(row['date.received.unixtime'] ?? Date.parse(row['date.received'] ?? '') / 1000) * 1000,
      });
      byFolder.set(row.mailbox.replaceAll('.', '/'), list);
    }
    for (const [folder, messages] of original) {
      const expected = messages.map((m) => ({ flags: m.flags, date: m.internalDate }));
      expect(byFolder.get(folder) ?? [], folder).toEqual(expected);
    }
  });

  it("Dovecot's IMAP server gives the same bytes", async () => {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: dovecot.port,
      secure: false,
      doSTARTTLS: false,
      auth: { user: READER, pass: PASSWORD },
      logger: false,
      disableAutoIdle: true,
    });
    await client.connect();
    try {
      const seen = await mailboxesSeen(client);
      const dovecotView = new Map([...seen].map(([name, messages]) => [name.replaceAll('.', '/'), messages]));
      for (const [folder, messages] of original) expect(dovecotView.get(folder), folder).toEqual(messages);
    } finally {
      await client.logout();
    }
  });
});
