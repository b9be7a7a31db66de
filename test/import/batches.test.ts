/**
 * The IMAP import stores messages a batch at a time, each batch with its folder's progress record
 * in the same sqlite transaction. Against Debian's Dovecot on loopback (two folders, 2,400
 * messages of about 12 KB), `mallard import imap` is killed with SIGKILL while it imports, twice;
 * after each kill what the store holds of a folder is exactly the source's messages up to the UID
 * recorded for it (a batch is recorded with its messages or not at all), and the run that follows
 * finishes with every message once, bytes exact.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { makeDataDir, MALLARD_BIN, ROOT, runMallard } from '../helpers/cli.ts';
import { dovecotAvailable, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';

const NOBODY = 65534;
const SOURCE_USER = 'bat@source.example';
const SOURCE_PASSWORD = 'batch-secret';
const TARGET = 'bat@example.org';
const FOLDERS = [
  { dir: '', name: 'INBOX', count: 1600 },
  { dir: '.Archive', name: 'Archive', count: 800 },
];

let dovecot: DovecotServer;
let dataDir: string;
/** Source folder → UID → SHA-256 of its bytes, as Dovecot serves them. */
const sourceHashes = new Map<string, Map<number, string>>();

function sha256(raw: Buffer | Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex');
}

function fillSource(): void {
  const home = path.join(dovecot.dir, 'mail', SOURCE_USER);
  let n = 0;
  for (const folder of FOLDERS) {
    const dir = path.join(home, folder.dir);
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    for (let index = 0; index < folder.count; index++) {
      n += 1;
      const raw = Buffer.from(
        `From: a@elsewhere.example\r\nTo: ${SOURCE_USER}\r\nSubject: batch ${n}\r\n` +
          `Message-ID: <batch-${n}@elsewhere.example>\r\n\r\n${`line ${n} of a longer body\r\n`.repeat(400)}`,
      );
      fs.writeFileSync(
        path.join(dir, 'cur', `${1_780_000_000 + n}.M${n}P1.source:2,${n % 2 ? 'S' : ''}`),
        raw,
      );
    }
  }
  const chown = (dir: string) => {
    fs.chownSync(dir, NOBODY, NOBODY);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) chown(path.join(dir, entry.name));
      else fs.chownSync(path.join(dir, entry.name), NOBODY, NOBODY);
    }
  };
  chown(home);
}

/** Reads every source message once, to know which bytes each UID has. */
async function readSource(): Promise<void> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: dovecot.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: SOURCE_USER, pass: SOURCE_PASSWORD },
    logger: false,
    disableAutoIdle: true,
  });
  await client.connect();
  try {
    for (const folder of FOLDERS) {
      const lock = await client.getMailboxLock(folder.name, { readOnly: true });
      const hashes = new Map<number, string>();
      try {
        for await (const m of client.fetch('1:*', { uid: true, source: true }))
          hashes.set(m.uid, sha256(m.source!));
      } finally {
        lock.release();
      }
      expect(hashes.size).toBe(folder.count);
      sourceHashes.set(folder.name, hashes);
    }
  } finally {
    await client.logout();
  }
}

function startImport() {
  const child = spawn(
    process.execPath,
    [
      MALLARD_BIN,
      'import',
      'imap',
      '--user',
      TARGET,
      '--host',
      '127.0.0.1',
      '--port',
      String(dovecot.port),
    ].concat(['--plain', '--login', SOURCE_USER]),
    {
      cwd: ROOT,
      env: {
        ...process.env,
        MALLARD_CONFIG: '',
        MALLARD_DATA_DIR: dataDir,
        MALLARD_CLI_OFFLINE: '1',
        MALLARD_LOG_LEVEL: 'warn',
        MALLARD_IMPORT_PASSWORD: SOURCE_PASSWORD,
      },
      stdio: 'pipe',
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, done, output: () => output };
}

/** Per source folder: the UID recorded, and the hashes of what its target mailbox holds. */
async function stored(): Promise<Map<string, { lastUid: number; hashes: string[] }>> {
  const store = await SqliteStore.open(dataDir);
  try {
    const user = (await store.getUserByUsername(TARGET))!;
    const records = await store.listImportProgress(user.id);
    const result = new Map<string, { lastUid: number; hashes: string[] }>();
    for (const folder of FOLDERS) {
      const box = await store.getMailbox(user.id, folder.name);
      const messages = box ? await store.listMessages(box.id) : [];
      result.set(folder.name, {
        lastUid: records.find((record) => record.folder === folder.name)?.lastUid ?? 0,
        hashes: messages.map((message) => message.blobId),
      });
    }
    return result;
  } finally {
    await store.close();
  }
}

/** What the store holds of each folder is exactly the source's messages up to the recorded UID. */
async function expectWholeBatches(): Promise<number> {
  let total = 0;
  for (const [folder, { lastUid, hashes }] of await stored()) {
    const upTo = [...sourceHashes.get(folder)!].filter(([uid]) => uid <= lastUid).map(([, hash]) => hash);
    expect(hashes.sort(), `${folder} up to UID ${lastUid}`).toEqual(upTo.sort());
    total += hashes.length;
  }
  return total;
}

const dovecotHere = dovecotAvailable();

beforeAll(async () => {
  if (!dovecotHere) return;
  dovecot = await startDovecot([[SOURCE_USER, SOURCE_PASSWORD]]);
  fillSource();
  await readSource();
  dataDir = makeDataDir('mallard-batches-');
  const env = { MALLARD_CLI_OFFLINE: '1' };
  expect(runMallard(['domain', 'add', 'example.org'], { dataDir, env }).status).toBe(0);
  expect(runMallard(['user', 'add', TARGET, '--password', 'bat-password-1'], { dataDir, env }).status).toBe(
    0,
  );
}, 120_000);

afterAll(async () => {
  await dovecot?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(!dovecotHere)('IMAP import in batches', () => {
  it('keeps whole batches across SIGKILL, and the next run imports every message once', async () => {
    const all = FOLDERS.reduce((sum, folder) => sum + folder.count, 0);
    let before = 0;
    for (let round = 0; round < 2; round++) {
      const run = startImport();
      // Killed once the progress line shows messages done: between or inside a batch's commit.
      await expect
        .poll(() => /progress: [1-9]\d*\//.test(run.output()) || run.child.exitCode !== null, {
          timeout: 60_000,
          interval: 20,
        })
        .toBe(true);
      run.child.kill('SIGKILL');
      await run.done;
      const now = await expectWholeBatches();
      expect(now).toBeGreaterThanOrEqual(before);
      expect(now).toBeLessThan(all);
      before = now;
    }
    const last = startImport();
    expect(await last.done, last.output()).toBe(0);
    expect(last.output()).toMatch(
      new RegExp(`imported ${all - before} messages .*, 0 already here, 0 skipped`),
    );
    expect(await expectWholeBatches()).toBe(all);
    for (const [folder, { lastUid }] of await stored())
      expect(lastUid).toBe(Math.max(...sourceHashes.get(folder)!.keys()));
  });
});
