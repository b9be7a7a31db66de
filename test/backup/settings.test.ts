/**
 * What a user set up besides their mail comes back with a restore: Sieve scripts (names, content,
 * which is active) and the administrator's script, METADATA entries of the server and of mailboxes
 * (GETMETADATA over IMAP), each message's save date (FETCH SAVEDATE over IMAP) and where an IMAP
 * import stands (so it resumes). A whole-server restore into a fresh server, and one user into a
 * server where they changed things since: their own changes are kept. Both engines.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { restoreBackup } from '../../server/backup/restore.ts';
import { runBackup } from '../../server/backup/run.ts';
import { verifyBackup } from '../../server/backup/verify.ts';
import { makeDataDir } from '../helpers/cli.ts';
import { closeClients, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri } from '../helpers/mongo.ts';
import { mongoForTests } from '../helpers/mongo-suite.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const mongoBase = mongoForTests();

const VACATION = 'require "vacation";\r\nvacation :days 3 "Away until Monday";\r\n';
const FILING = 'require "fileinto";\r\nif header :contains "subject" "list" { fileinto "Lists"; }\r\n';
const ADMIN = 'if header :contains "subject" "[spam]" { discard; stop; }\r\n';
const SOURCE = 'ann@imap.example.net:993';

/** What the user sees of their settings: scripts, METADATA and save dates over IMAP, imports. */
async function settingsOf(server: TestServer, account: Account) {
  const store = server.server.store;
  const user = (await store.getUserByUsername(account.username))!;
  const client = await loggedIn({ ...account, server, userId: user.id });
  const metadata = await client.command('m1', 'GETMETADATA "" (/private/vendor/x /shared/comment)');
  const boxMetadata = await client.command('m2', 'GETMETADATA "Lists" (/private/comment)');
  await client.command('s', 'SELECT INBOX');
  const saved = await client.command('f', 'UID FETCH 1:* (SAVEDATE)');
  client.close();
  return {
    scripts: (await store.listSieveScripts(user.id)).map((s) => ({
      name: s.name,
      content: s.content,
      active: s.active,
    })),
    metadata: metadata.split('\r\n').filter((l) => l.startsWith('* METADATA')),
    boxMetadata: boxMetadata.split('\r\n').filter((l) => l.startsWith('* METADATA')),
    saveDates: saved.split('\r\n').filter((l) => l.startsWith('* ')),
    imports: await store.listImportProgress(user.id),
  };
}

describe.each(['sqlite', 'mongodb'] as const)('a backup carries what users set up (%s)', (engine) => {
  let first: TestServer;
  let second: TestServer | undefined;
  let account: Account;
  let destination: string;
  let adminFile: string;
  let file: string;
  let before: Awaited<ReturnType<typeof settingsOf>>;

  const env = (): NodeJS.ProcessEnv =>
    engine === 'mongodb'
      ? { MALLARD_STORE_ENGINE: 'mongodb', MALLARD_STORE_MONGODB_URI: freshDatabaseUri(mongoBase()) }
      : {};

  beforeAll(async () => {
    destination = makeDataDir('mallard-backups-');
    adminFile = path.join(destination, 'admin', 'before.sieve');
    fs.mkdirSync(path.dirname(adminFile));
    fs.writeFileSync(adminFile, ADMIN);
    first = await startTestServer(env());
    account = await newAccount(first);
    const store = first.server.store;
    await store.putSieveScript(account.userId, 'vacation', VACATION);
    await store.putSieveScript(account.userId, 'filing', FILING);
    await store.activateSieveScript(account.userId, 'filing');
    await store.saveImportProgress(account.userId, {
      source: SOURCE,
      folder: 'INBOX',
      uidValidity: 7,
      lastUid: 420,
    });
    await store.saveImportProgress(account.userId, {
      source: SOURCE,
      folder: 'Sent',
      uidValidity: 9,
      lastUid: 12,
    });
    const client = await loggedIn(account);
    expect(await client.command('c', 'CREATE Lists')).toMatch(/^c OK/m);
    expect(await client.command('a', 'SETMETADATA "" (/private/vendor/x "a \\"quoted\\" value")')).toMatch(
      /^a OK/m,
    );
    expect(await client.command('b', 'SETMETADATA "" (/shared/comment "the household")')).toMatch(/^b OK/m);
    expect(await client.command('d', 'SETMETADATA Lists (/private/comment "mailing lists")')).toMatch(
      /^d OK/m,
    );
    for (const [tag, date] of [
      ['p1', '01-Jan-2001 10:00:00 +0000'],
      ['p2', '02-Feb-2002 11:00:00 +0000'],
    ] as const) {
      const message = `Subject: ${tag}\r\n\r\nbody\r\n`;
      client.send(`${tag} APPEND INBOX "${date}" {${message.length}+}\r\n${message}\r\n`);
      expect(await client.readUntil(new RegExp(`^${tag} (OK|NO|BAD)`))).toMatch(
        new RegExp(`^${tag} OK`, 'm'),
      );
    }
    client.close();
    before = await settingsOf(first, account);
    expect(before.saveDates).toHaveLength(2);
    expect(before.saveDates.every((l) => / SAVEDATE "\d/.test(l))).toBe(true);
    expect(before.metadata).toHaveLength(1);
  }, 120_000);

  afterEach(() => closeClients());

  afterAll(async () => {
    await second?.stop();
    await first?.stop();
    fs.rmSync(destination, { recursive: true, force: true });
  });

  it('writes them into the backup, and verify counts them', async () => {
    const config = { ...first.config, inbound: { ...first.config.inbound, sieve_before: adminFile } };
    const result = await runBackup(first.server.store, config, { destination, passphrase: null });
    expect(result.error).toBeNull();
    file = result.file!;
    expect(fs.readFileSync(file).subarray(0, 17).toString()).toBe('MALLARD-BACKUP 3\n');
    const check = await verifyBackup(file, null);
    expect(check.problems).toEqual([]);
  }, 120_000);

  it('restores the whole server with them into a fresh one', async () => {
    second = await startTestServer(env());
    const restoredAdmin = path.join(destination, 'restored', 'before.sieve');
    const report = await restoreBackup(file, second.server.store, {
      passphrase: null,
      sieveBeforeFile: restoredAdmin,
    });
    expect(report.notes.join('\n')).toContain(`written to ${restoredAdmin}`);
    expect(fs.readFileSync(restoredAdmin, 'utf8')).toBe(ADMIN);
    const after = await settingsOf(second, account);
    expect(after).toEqual(before);
    expect(after.scripts.find((s) => s.active)?.name).toBe('filing');
  }, 120_000);

  it('restores one user into a server where they changed things since: theirs are kept', async () => {
    const store = first.server.store;
    await store.activateSieveScript(account.userId, null);
    await store.putSieveScript(account.userId, 'vacation', 'keep;\r\n');
    await store.deleteSieveScript(account.userId, 'filing');
    await store.saveImportProgress(account.userId, {
      source: SOURCE,
      folder: 'INBOX',
      uidValidity: 7,
      lastUid: 500,
    });
    await store.setMetadata(account.userId, '', [{ name: '/shared/comment', value: null }], 100);
    const report = await restoreBackup(file, store, { passphrase: null, user: account.username });
    expect(report.notes.join('\n')).toMatch(/Sieve script vacation was changed since the backup/);
    const after = await settingsOf(first, account);
    expect(after.scripts).toEqual([
      { name: 'filing', content: FILING, active: true },
      { name: 'vacation', content: 'keep;\r\n', active: false },
    ]);
    expect(after.imports).toEqual([
      { source: SOURCE, folder: 'INBOX', uidValidity: 7, lastUid: 500 },
      { source: SOURCE, folder: 'Sent', uidValidity: 9, lastUid: 12 },
    ]);
    expect(after.metadata).toEqual(before.metadata);
    expect(after.boxMetadata).toEqual(before.boxMetadata);
  }, 120_000);
});
