/**
 * `mallard db migrate` of a 1,000-message account from the embedded store to MongoDB (the
 * stand-in), interrupted once (SIGKILL mid-copy) and resumed: every message byte-exact with its
 * UID, flags and MODSEQ, the same UIDVALIDITY, and an IMAP client's cached state (UIDVALIDITY,
 * UIDNEXT, HIGHESTMODSEQ, uid → flags) still valid against a server on the new store.
 */
import { withCrlfLineEnds } from '../../server/mime/line-ends.ts';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/password.ts';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import type { Store } from '../../server/store/types.ts';
import { MALLARD_BIN, makeDataDir, ROOT } from '../helpers/cli.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { runProcess } from '../helpers/process.ts';
import { openMongo, startServerProcess } from './support.ts';

const USER = 'alice@example.com';
const PASSWORD = 'secret-password';
const INBOX_MESSAGES = 1000;
const ARCHIVE_MESSAGES = 30;

let standIn: MongoStandIn;
let uri: string;
let dataDir: string;
/** raw bytes by mailbox path and UID, as appended to the source */
const originals = new Map<string, Map<number, Buffer>>();

interface CachedMailbox {
  uidValidity: bigint;
  uidNext: number;
  highestModseq: bigint | undefined;
  flags: Map<number, string[]>;
}

/**
 * A message of 1-2 KB with 8-bit bytes, some with bare LF line ends (stored with CRLF, as every
 * appended message): the stored bytes must survive the migration as they are.
 */
function message(index: number): Buffer {
  const eol = index % 13 === 0 ? '\n' : '\r\n';
  const filler = `Zeile ${index} mit Umlauten \xe4\xf6\xfc und Bytes \x01\x7f; `;
  const body = filler.repeat(Math.ceil((1000 + ((index * 37) % 1000)) / filler.length));
  const headers = [
    `From: sender${index % 17}@example.net`,
    `To: ${USER}`,
    `Subject: message ${index}`,
    `Message-ID: <m${index}@example.net>`,
  ];
  return Buffer.from(`${headers.join(eol)}${eol}${eol}${body}${eol}`, 'latin1');
}

function flagsFor(index: number): string[] {
  const flags: string[] = [];
  if (index % 4 === 0) flags.push('\\Seen');
  if (index % 7 === 0) flags.push('\\Flagged', '$Label1');
  if (index % 11 === 0) flags.push('\\Answered');
  return flags;
}

async function fillSource(): Promise<void> {
  const store = await SqliteStore.open(dataDir);
  try {
    const user = await store.createUser({ username: USER, passwordHash: await hashPassword(PASSWORD) });
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    const archive = await store.createMailbox(user.id, 'Archive/2024');
    for (const [box, count] of [
      [inbox, INBOX_MESSAGES],
      [archive, ARCHIVE_MESSAGES],
    ] as const) {
      const bytes = new Map<number, Buffer>();
      for (let i = 1; i <= count; i++) {
        const raw = message(i);
        const { uid } = await store.append(box.id, raw, {
          flags: flagsFor(i),
          internalDate: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
        });
        bytes.set(uid, withCrlfLineEnds(raw));
      }
      originals.set(box.path, bytes);
    }
    // Gaps in the UIDs and MODSEQs moved by later flag changes, as a mailbox in use has them.
    const gone = await store.deleteMessages(inbox.id, [100, 101, 102, 500]);
    for (const uid of gone) originals.get('INBOX')!.delete(uid);
    await store.storeFlags(inbox.id, [1, 2, 3, 998], 'add', ['\\Seen', 'Later']);
    expect(await store.checkIntegrity()).toEqual([]);
  } finally {
    await store.close();
  }
}

function imapClient(port: number): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: USER, pass: PASSWORD },
    logger: false,
    disableAutoIdle: true,
  });
}

/** What a client caches about a mailbox: its numbers and every message's flags. */
async function cacheMailbox(client: ImapFlow, path: string): Promise<CachedMailbox> {
  const opened = await client.mailboxOpen(path, { readOnly: true });
  const flags = new Map<number, string[]>();
  for await (const msg of client.fetch('1:*', { uid: true, flags: true }, { uid: true })) {
    flags.set(msg.uid, [...(msg.flags ?? [])].sort());
  }
  return {
    uidValidity: opened.uidValidity,
    uidNext: opened.uidNext,
    highestModseq: opened.highestModseq,
    flags,
  };
}

beforeAll(async () => {
  standIn = await startMongoStandIn();
  uri = freshDatabaseUri(standIn.uri);
  dataDir = makeDataDir('mallard-migrate-');
  await fillSource();
}, 300_000);

afterAll(async () => {
  await standIn?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const cliEnv = () => ({
  ...process.env,
  MALLARD_CONFIG: '',
  MALLARD_DATA_DIR: dataDir,
  MALLARD_LOG_LEVEL: 'warn',
});

/** Runs `mallard db migrate` and kills it (SIGKILL) once it reports 200 or more copied messages. */
function migrateAndKill(): Promise<{ stdout: string; signal: NodeJS.Signals | null; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MALLARD_BIN, 'db', 'migrate', '--to', uri], {
      cwd: ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      // Into the INBOX (after Archive/2024, in path order): some of it copied, most not.
      if (/^progress\t.*\tcopied ([2-9]\d\d|\d{4}) /m.test(stdout)) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ stdout: stdout + stderr, signal, code }));
  });
}

describe('migration of a 1,000-message account from sqlite to MongoDB', () => {
  it('copies everything exactly, resumes after a kill, and keeps clients’ cached state valid', async () => {
    // --- a client synchronises against the embedded store ---
    const before = await startServerProcess({ sqliteDataDir: dataDir });
    const cached = new Map<string, CachedMailbox>();
    const client = imapClient(before.imapPort);
    await client.connect();
    for (const path of ['INBOX', 'Archive/2024']) cached.set(path, await cacheMailbox(client, path));
    await client.logout();
    await before.stop();
    expect(cached.get('INBOX')!.flags.size).toBe(INBOX_MESSAGES - 4);
    expect(cached.get('INBOX')!.highestModseq).toBeDefined();

    // --- the migration, killed mid-copy, then run again ---
    const killed = await migrateAndKill();
    expect(killed.signal, killed.stdout).toBe('SIGKILL');
    expect(killed.stdout).not.toMatch(/^summary/m);
    const started = Date.now();
    const resumed = await runProcess(process.execPath, [MALLARD_BIN, 'db', 'migrate', '--to', uri], {
      cwd: ROOT,
      env: cliEnv(),
      timeoutMs: 600_000,
    });
    expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
    const summary = /^summary\t(.*)$/m.exec(resumed.stdout)?.[1] ?? '';
    console.log(`resumed migration: ${summary} (${Date.now() - started} ms)`);
    expect(summary).toMatch(/^verified: 1 users, \d+ mailboxes, 1026 messages/);
    expect(summary).toMatch(/, 0 mismatches,/);
    const already = Number(/(\d+) already there/.exec(summary)?.[1]);
    const copied = Number(/(\d+) copied/.exec(summary)?.[1]);
    expect(already).toBeGreaterThan(ARCHIVE_MESSAGES); // the killed run had copied these
    expect(copied).toBeGreaterThan(0);
    expect(already + copied).toBe(INBOX_MESSAGES - 4 + ARCHIVE_MESSAGES);
    expect(resumed.stdout).toMatch(/^verified\talice@example.com\tINBOX\t996 messages\tok$/m);

    // --- the target, checked here independently of the CLI's own verification ---
    const source = await SqliteStore.open(dataDir);
    const target: Store = await openMongo(uri);
    try {
      const from = (await source.getUserByUsername(USER))!;
      const to = (await target.getUserByUsername(USER))!;
      expect((await target.getCredentials(USER))!.passwordHash).toBe(
        (await source.getCredentials(USER))!.passwordHash,
      );
      for (const path of ['INBOX', 'Archive/2024']) {
        const a = (await source.getMailbox(from.id, path))!;
        const b = (await target.getMailbox(to.id, path))!;
        expect({ v: b.uidValidity, n: b.uidNext, m: b.highestModseq }).toEqual({
          v: a.uidValidity,
          n: a.uidNext,
          m: a.highestModseq,
        });
        const wanted = await source.listMessages(a.id);
        const got = await target.listMessages(b.id);
        expect(got.map(({ mailboxId: _m, blobId: _b, ...rest }) => rest)).toEqual(
          wanted.map(({ mailboxId: _m, blobId: _b, ...rest }) => rest),
        );
        const bodies = await target.readBlobs(got.map((m) => m.blobId));
        for (const summary of got) {
          const raw = bodies.get(summary.blobId);
          expect(raw?.equals(originals.get(path)!.get(summary.uid)!), `${path} UID ${summary.uid}`).toBe(
            true,
          );
        }
      }
    } finally {
      await source.close();
      await target.close();
    }

    // --- the same client, now against a server on MongoDB, finds its cache valid ---
    const after = await startServerProcess(uri);
    try {
      const again = imapClient(after.imapPort);
      await again.connect();
      for (const [path, cache] of cached) {
        const now = await cacheMailbox(again, path);
        expect(now.uidValidity).toBe(cache.uidValidity);
        expect(now.uidNext).toBe(cache.uidNext);
        expect(now.highestModseq).toBe(cache.highestModseq);
        expect(now.flags).toEqual(cache.flags);
        // CONDSTORE resync from the cached HIGHESTMODSEQ: nothing changed.
        const changed = [];
        for await (const msg of again.fetch(
          '1:*',
          { uid: true, flags: true },
          { uid: true, changedSince: cache.highestModseq! },
        )) {
          changed.push(msg.uid);
        }
        expect(changed).toEqual([]);
      }
      // Bytes through IMAP, for a few messages, including a bare-LF one.
      await again.mailboxOpen('INBOX', { readOnly: true });
      for (const uid of [1, 13, 499, 1000]) {
        const fetched = await again.fetchOne(String(uid), { source: true }, { uid: true });
        expect(fetched && fetched.source?.equals(originals.get('INBOX')!.get(uid)!)).toBe(true);
      }
      await again.logout();
    } finally {
      await after.stop();
    }
  }, 900_000);
});
