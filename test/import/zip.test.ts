/**
 * Import from .zip archives: a Thunderbird profile's local folders and a Dovecot Maildir zipped by
 * Info-ZIP's `zip` (deflated and stored entries, macOS `__MACOSX/` metadata beside them), read
 * by `mallard import mbox` into the store with flags and folders kept, and the archives a person
 * may hand over by mistake refused with a clear error: zip64, encrypted, a name with "..", a
 * corrupted entry, a truncated file.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../server/import/files.ts';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import type { Id } from '../../server/store/types.ts';
import { makeDataDir, runMallard } from '../helpers/cli.ts';

const USER = 'zoe@example.com';
let files: string;
let store: SqliteStore;

function message(subject: string): string {
  return `From: a@example.net\nTo: ${USER}\nSubject: ${subject}\nMessage-ID: <${subject.replace(/\W/g, '')}@example.net>\n\nBody of ${subject}\n${'line of text\n'.repeat(200)}`;
}

function zip(archive: string, cwd: string, args: string[]): string {
  const file = path.join(files, archive);
  execFileSync('zip', ['-q', '-r', ...args, file, '.'], { cwd });
  return file;
}

async function newUser(name: string): Promise<Id> {
  return (await store.createUser({ username: `${name}@example.com`, passwordHash: '$argon2id$x' })).id;
}

async function subjects(userId: Id, mailbox: string): Promise<string[]> {
  const box = await store.getMailbox(userId, mailbox);
  if (!box) return [];
  const messages = await store.listMessages(box.id);
  const bodies = await store.readBlobs(messages.map((m) => m.blobId));
  return messages.map((m) => /^Subject: (.*)$/m.exec(bodies.get(m.blobId)!.toString())![1]!.trim()).sort();
}

async function importError(source: string): Promise<string> {
  const userId = await newUser(`bad${Math.random().toString(36).slice(2, 8)}`);
  const error = await importFiles(store, { userId, source, maxMessageSize: 1 << 20, print: () => {} }).then(
    () => null,
    (reason: Error) => reason.message,
  );
  expect(error).not.toBeNull();
  return error!;
}

beforeAll(async () => {
  files = makeDataDir('mallard-zip-src-');
  store = await SqliteStore.open(makeDataDir('mallard-zip-store-'));
  // Thunderbird: Local Folders/{Inbox, Sent, Projects.sbd/Q1}, zipped with macOS metadata beside.
  const tb = path.join(files, 'tb', 'Local Folders');
  fs.mkdirSync(path.join(tb, 'Projects.sbd'), { recursive: true });
  fs.writeFileSync(
    path.join(tb, 'Inbox'),
    `From - Mon Mar  4 09:15:00 2024\nX-Mozilla-Status: 0001\n${message('tb one')}\n` +
      `From - Wed Mar  6 11:30:00 2024\nX-Mozilla-Status: 0005\n${message('tb two')}\n`,
  );
  fs.writeFileSync(path.join(tb, 'Sent'), `From - Thu Mar  7 08:00:00 2024\n${message('tb sent')}\n`);
  fs.writeFileSync(
    path.join(tb, 'Projects.sbd', 'Q1'),
    `From - Fri Mar  8 12:00:00 2024\n${message('tb q1')}\n`,
  );
  fs.mkdirSync(path.join(files, 'tb', '__MACOSX', 'Local Folders'), { recursive: true });
  fs.writeFileSync(path.join(files, 'tb', '__MACOSX', 'Local Folders', '._Inbox'), 'AppleDouble');
  // Dovecot Maildir: cur/ with flags, .Spam/cur/.
  const maildir = path.join(files, 'md', 'Maildir');
  for (const dir of ['cur', 'new', 'tmp', '.Spam/cur'])
    fs.mkdirSync(path.join(maildir, dir), { recursive: true });
  fs.writeFileSync(path.join(maildir, 'cur', '1700000000.M1P1.host:2,FS'), message('md flagged'));
  fs.writeFileSync(path.join(maildir, 'new', '1700000001.M2P1.host'), message('md new'));
  fs.writeFileSync(path.join(maildir, '.Spam', 'cur', '1700000002.M3P1.host:2,S'), message('md spam'));
});

afterAll(() => store.close());

describe('import from a zip', () => {
  it('reads a zipped Thunderbird tree, deflated or stored, passing over __MACOSX', async () => {
    for (const level of ['-9', '-0']) {
      const archive = zip(`thunderbird${level}.zip`, path.join(files, 'tb'), [level]);
      const userId = await newUser(`tb${level.slice(1)}`);
      const progress = await importFiles(store, {
        userId,
        source: archive,
        maxMessageSize: 1 << 20,
        print: () => {},
      });
      expect(progress.imported).toBe(4);
      expect(await subjects(userId, 'INBOX')).toEqual(['tb one', 'tb two']);
      expect(await subjects(userId, 'Sent')).toEqual(['tb sent']);
      expect(await subjects(userId, 'Projects/Q1')).toEqual(['tb q1']);
    }
  });

  it('reads a zipped Maildir with its flags, through the CLI', async () => {
    const archive = zip('maildir.zip', path.join(files, 'md'), []);
    const dataDir = makeDataDir('mallard-zip-cli-');
    const env = { MALLARD_CLI_OFFLINE: '1' };
    expect(runMallard(['domain', 'add', 'example.com'], { dataDir, env }).status).toBe(0);
    expect(runMallard(['user', 'add', USER, '--password', 'zoe-password-1'], { dataDir, env }).status).toBe(
      0,
    );
    const result = runMallard(['import', 'maildir', USER, archive], { dataDir, env });
    expect(result.status, result.stderr).toBe(0);
    expect(result.text).toContain('imported 3 messages');
    const inbox = runMallard(['message', 'list', USER, 'INBOX'], { dataDir, env }).text;
    expect(inbox).toMatch(/\\Flagged \\Seen.*md flagged|\\Seen \\Flagged.*md flagged/);
    expect(inbox).toContain('md new');
    expect(runMallard(['message', 'list', USER, 'Junk'], { dataDir, env }).text).toContain('md spam');
  });

  it('refuses zip64, encryption, names with "..", corrupted and truncated archives clearly', async () => {
    const plain = path.join(files, 'tb');
    expect(await importError(zip('forced64.zip', plain, ['-fz']))).toMatch(/bad zip archive: .*zip64/);
    expect(await importError(zip('secret.zip', plain, ['-P', 'secret']))).toMatch(
      /bad zip archive: .*encrypted/,
    );

    const evil = path.join(files, 'evil.zip');
    execFileSync('python3', [
      '-c',
      'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w"); z.writestr("../outside", "From x\\n"); z.close()',
      evil,
    ]);
    expect(await importError(evil)).toMatch(/bad zip archive: \.\.\/outside: a name reaching outside/);
    expect(fs.existsSync(path.join(path.dirname(files), 'outside'))).toBe(false);

    const good = fs.readFileSync(zip('stored.zip', plain, ['-0']));
    const corrupt = Buffer.from(good);
    const at = corrupt.indexOf('Body of tb one');
    corrupt[at] = 'b'.charCodeAt(0);
    fs.writeFileSync(path.join(files, 'corrupt.zip'), corrupt);
    expect(await importError(path.join(files, 'corrupt.zip'))).toMatch(/bad zip archive: .*CRC-32 mismatch/);

    fs.writeFileSync(path.join(files, 'cut.zip'), good.subarray(0, good.length - 40));
    expect(await importError(path.join(files, 'cut.zip'))).toMatch(
      /bad zip archive: no end of central directory/,
    );
  });
});
