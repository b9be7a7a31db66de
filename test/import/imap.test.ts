/**
 * `mallard import imap` against a real, independent IMAP server: Debian's Dovecot on loopback,
 * its Maildir written directly (2,050 messages in nested folders with flags, keywords, dates and
 * odd names, special-use folders, Gmail's All Mail). The import runs as the real CLI into a
 * running Mallard on both engines; it is killed mid-way and resumed, re-run after new mail, and
 * re-run after the source renumbered a folder. Every message must arrive once, bytes exact, with
 * its flags and internal date, and an IMAP client selected at Mallard sees them arrive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir, MALLARD_BIN, ROOT } from '../helpers/cli.ts';
import { dovecotAvailable, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const NOBODY = 65534;
const SOURCE_USER = 'ann@source.example';
const SOURCE_PASSWORD = 'source-secret';

/** Source folders: on-disk Maildir++ name, IMAP name, our expected path, message count. */
const FOLDERS = [
  { dir: '', target: 'INBOX', count: 800 },
  { dir: '.Sent Messages', target: 'Sent', count: 300 },
  { dir: '.Projects.2026 Q1', target: 'Projects/2026 Q1', count: 400 },
  // "Ärger & Co" in modified UTF-7, as Dovecot names it on disk and on the wire.
  { dir: '.Projects.&AMQ-rger &- Co', target: 'Projects/Ärger & Co', count: 300 },
  { dir: '.Archive old.deep.deeper', target: 'Archive old/deep/deeper', count: 250 },
  { dir: '.[Gmail].All Mail', target: null, count: 50 },
] as const;
const IMPORTED = FOLDERS.reduce((sum, folder) => sum + (folder.target ? folder.count : 0), 0);

const DOVECOT_EXTRA = `namespace inbox {
  inbox = yes
  separator = .
  mailbox "Sent Messages" {
    special_use = \\Sent
  }
  mailbox "[Gmail].All Mail" {
    special_use = \\All
  }
}
`;

interface Expected {
  flags: string[];
  internalDate: number;
}

/** target path → body hash → what the message must keep. */
const expected = new Map<string, Map<string, Expected>>();
let sequence = 0;

function maildirOf(dovecot: DovecotServer, dir: string): string {
  return path.join(dovecot.dir, 'mail', SOURCE_USER, dir);
}

function chownTree(dir: string): void {
  fs.chownSync(dir, NOBODY, NOBODY);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full);
    else fs.chownSync(full, NOBODY, NOBODY);
  }
}

/** Writes `count` messages into a Maildir folder; returns nothing, records what each must keep. */
function writeMessages(dovecot: DovecotServer, folder: (typeof FOLDERS)[number], count: number): void {
  const dir = maildirOf(dovecot, folder.dir);
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  fs.writeFileSync(path.join(dir, 'dovecot-keywords'), '0 $Forwarded\n1 project-x\n');
  for (let index = 0; index < count; index += 1) {
    sequence += 1;
    const n = sequence;
    const body = `Message ${n} in ${folder.target ?? folder.dir}.\r\n${'x'.repeat(n % 700)}\r\n`;
    const raw = Buffer.from(
      `From: Bob <bob@elsewhere.example>\r\nTo: ${SOURCE_USER}\r\nSubject: corpus ${n}\r\n` +
        `Message-ID: <corpus-${n}@elsewhere.example>\r\nDate: Mon, 1 Jun 2026 10:00:00 +0000\r\n\r\n${body}`,
    );
    // Maildir info letters in ASCII order: system flags, then keywords (a = 0, b = 1).
    const letters = [
      n % 7 === 0 ? 'D' : '',
      n % 3 === 0 ? 'F' : '',
      n % 5 === 0 ? 'R' : '',
      n % 2 === 0 ? 'S' : '',
      n % 11 === 0 ? 'a' : '',
      n % 13 === 0 ? 'b' : '',
    ].join('');
    const flags = [
      ...(letters.includes('D') ? ['\\Draft'] : []),
      ...(letters.includes('F') ? ['\\Flagged'] : []),
      ...(letters.includes('R') ? ['\\Answered'] : []),
      ...(letters.includes('S') ? ['\\Seen'] : []),
      ...(letters.includes('a') ? ['$Forwarded'] : []),
      ...(letters.includes('b') ? ['project-x'] : []),
    ].sort();
    const file = path.join(dir, 'cur', `${1_780_000_000 + n}.M${n}P1.source:2,${letters}`);
    fs.writeFileSync(file, raw);
    const date = new Date(Date.UTC(2020, 0, 1) + n * 3_600_000);
    fs.utimesSync(file, date, date);
    if (folder.target) {
      const hashes = expected.get(folder.target) ?? new Map<string, Expected>();
      hashes.set(createHash('sha256').update(raw).digest('hex'), { flags, internalDate: date.getTime() });
      expected.set(folder.target, hashes);
    }
  }
  chownTree(maildirOf(dovecot, ''));
}

interface ImportRun {
  child: ChildProcess;
  output: () => string;
  done: Promise<number | null>;
}

function startImport(env: NodeJS.ProcessEnv, port: number, extra: string[] = []): ImportRun {
  const child = spawn(
    process.execPath,
    [
      MALLARD_BIN,
      'import',
      'imap',
      '--user',
      'ann@example.org',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--plain',
      '--login',
      SOURCE_USER,
      ...extra,
    ],
    { cwd: ROOT, env: { ...process.env, ...env, MALLARD_IMPORT_PASSWORD: SOURCE_PASSWORD }, stdio: 'pipe' },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, done };
}

async function runImport(env: NodeJS.ProcessEnv, port: number): Promise<string> {
  const run = startImport(env, port);
  const code = await run.done;
  expect(code, run.output()).toBe(0);
  return run.output();
}

const dovecotHere = dovecotAvailable();
let dovecot: DovecotServer;

beforeAll(async () => {
  if (!dovecotHere) return;
  dovecot = await startDovecot([[SOURCE_USER, SOURCE_PASSWORD]], DOVECOT_EXTRA);
  for (const folder of FOLDERS) writeMessages(dovecot, folder, folder.count);
}, 120_000);

afterAll(async () => {
  await dovecot?.stop();
});

describe.skipIf(!dovecotHere).each(['sqlite', 'mongodb'] as const)(
  'import from Dovecot into %s',
  (engine) => {
    let server: TestServer;
    let mongo: MongoStandIn | null = null;
    let userId: string;
    const env: NodeJS.ProcessEnv = { MALLARD_LOG_LEVEL: 'warn', MALLARD_CONFIG: '' };

    beforeAll(async () => {
      env.MALLARD_DATA_DIR = makeDataDir('mallard-import-');
      if (engine === 'mongodb') {
        mongo = await startMongoStandIn();
        env.MALLARD_STORE_ENGINE = 'mongodb';
        env.MALLARD_STORE_MONGODB_URI = freshDatabaseUri(mongo.uri);
      }
      server = await startTestServer(env);
      userId = await server.addUser('ann@example.org', 'ann-password');
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
      await mongo?.stop();
      if (env.MALLARD_DATA_DIR) fs.rmSync(env.MALLARD_DATA_DIR, { recursive: true, force: true });
    }, 60_000);

    async function storedCount(): Promise<number> {
      let total = 0;
      for (const mailbox of await server.server.store.listMailboxes(userId)) {
        total += (await server.server.store.mailboxCounts(mailbox.id)).messages;
      }
      return total;
    }

    /** Every expected message once in its mailbox, bytes exact, flags and date kept; nothing else. */
    async function checkEveryMessage(): Promise<void> {
      const store = server.server.store;
      for (const [target, messages] of expected) {
        const mailbox = await store.getMailbox(userId, target);
        expect(mailbox, target).not.toBeNull();
        const stored = await store.listMessages(mailbox!.id);
        expect(stored.length, target).toBe(messages.size);
        const blobs = await store.readBlobs(stored.map((message) => message.blobId));
        for (const message of stored) {
          const hash = createHash('sha256').update(blobs.get(message.blobId)!).digest('hex');
          const want = messages.get(hash);
          expect(want, `${target} uid ${message.uid}`).toBeDefined();
          expect([...message.flags].sort()).toEqual(want!.flags);
          expect(message.internalDate.getTime()).toBe(want!.internalDate);
        }
      }
      const all = [...expected.values()].reduce((sum, messages) => sum + messages.size, 0);
      expect(await storedCount()).toBe(all);
    }

    it('imports while a client watches, survives a kill, and resumes with nothing twice', async () => {
      const client = new ImapFlow({
        host: '127.0.0.1',
        port: server.imapPort,
        secure: false,
        auth: { user: 'ann@example.org', pass: 'ann-password' },
        logger: false,
        disableAutoIdle: true,
        tls: { rejectUnauthorized: false },
      });
      await client.connect();
      try {
        await client.mailboxOpen('INBOX');
        expect(client.mailbox && client.mailbox.exists).toBe(0);
        // Throttled so that the kill surely lands mid-way.
        const run = startImport(env, dovecot.port, ['--max-rate', '300']);
        await expect
          .poll(
            async () => {
              await client.noop();
              return client.mailbox ? client.mailbox.exists : 0;
            },
            { timeout: 60_000, interval: 100 },
          )
          .toBeGreaterThan(0);
        await expect.poll(storedCount, { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(400);
        run.child.kill('SIGKILL');
        await run.done;
        expect(await storedCount()).toBeLessThan(IMPORTED);

        const resumed = await runImport(env, dovecot.port);
        expect(resumed).toMatch(/progress: \d+\/\d+ messages, [\d.]+ MB\/[\d.]+ MB, [\d.]+ msg\/s, ETA/);
        expect(resumed).toMatch(/skipped: \[Gmail\]\.All Mail: All Mail/);
        await checkEveryMessage();
        await client.noop();
        expect(client.mailbox && client.mailbox.exists).toBe(expected.get('INBOX')!.size);
      } finally {
        await client.logout();
      }
    }, 300_000);

    it('refuses a wrong source password and an unknown user with a clear message', async () => {
      const bad = spawn(
        process.execPath,
        [
          MALLARD_BIN,
          'import',
          'imap',
          '--user',
          'ann@example.org',
          '--host',
          '127.0.0.1',
          '--port',
          String(dovecot.port),
          '--plain',
          '--login',
          'nobody@source.example',
        ],
        { cwd: ROOT, env: { ...process.env, ...env, MALLARD_IMPORT_PASSWORD: 'wrong' }, stdio: 'pipe' },
      );
      let badOutput = '';
      bad.stderr.on('data', (chunk: Buffer) => (badOutput += chunk.toString()));
      const badCode = await new Promise((resolve) => bad.once('exit', resolve));
      expect(badCode).toBe(75);
      expect(badOutput).toContain('the source refused the login nobody@source.example');
      const unknown = spawn(
        process.execPath,
        [
          MALLARD_BIN,
          'import',
          'imap',
          '--user',
          'zoe@example.org',
          '--host',
          '127.0.0.1',
          '--plain',
          '--login',
          'x',
        ],
        { cwd: ROOT, env: { ...process.env, ...env, MALLARD_IMPORT_PASSWORD: 'x' }, stdio: 'pipe' },
      );
      let unknownOutput = '';
      unknown.stderr.on('data', (chunk: Buffer) => (unknownOutput += chunk.toString()));
      expect(await new Promise((resolve) => unknown.once('exit', resolve))).toBe(67);
      expect(unknownOutput).toContain('no such user: zoe@example.org');
    }, 120_000);

    it('a re-run fetches only what arrived at the source since', async () => {
      writeMessages(dovecot, FOLDERS[0], 3);
      writeMessages(dovecot, FOLDERS[2], 2);
      const before = await storedCount();
      const output = await runImport(env, dovecot.port);
      expect(output).toMatch(/imported 5 messages .* 0 already here/);
      expect(await storedCount()).toBe(before + 5);
      await checkEveryMessage();
    }, 120_000);

    it('a folder renumbered at the source (new UIDVALIDITY) is read again without duplicates', async () => {
      const folder = maildirOf(dovecot, FOLDERS[4].dir);
      for (const name of fs.readdirSync(folder))
        if (name.startsWith('dovecot.') || name === 'dovecot-uidlist') fs.rmSync(path.join(folder, name));
      const before = await storedCount();
      const output = await runImport(env, dovecot.port);
      expect(output).toContain('Archive old.deep.deeper: UIDVALIDITY changed');
      expect(output).toMatch(/imported 0 messages .*250 already here/);
      expect(await storedCount()).toBe(before);
      await checkEveryMessage();
    }, 120_000);
  },
);
