/**
 * Debian's offlineimap3 doing a full two-way sync of a 1,000-message account with Mallard: the
 * first sync downloads everything byte for byte; then both sides change (flags, deletes, moves,
 * new mail), a second sync merges them, a third must change nothing, and both sides must then hold
 * exactly what the model says, with every message's bytes intact. Plain IMAP on loopback.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveProgram, runProcess, type ProcessResult } from '../helpers/process.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  changeMaildir,
  changeServer,
  MaildirEditor,
  readMaildir,
  seedAccount,
  type SeededAccount,
  expectBothSidesMatchModel as expectSidesMatch,
} from '../helpers/sync-account.ts';

const AVAILABLE = haveProgram('offlineimap');
if (!AVAILABLE)
  console.warn('offlineimap: skipped — offlineimap is not installed (apt-get install offlineimap3)');

/** Each sync of 1,000 messages on loopback takes seconds; a minute means something hangs. */
const SYNC_TIMEOUT_MS = 60_000;

let server: TestServer;
let account: SeededAccount;
let dir: string;
let maildir: string;

function config(port: number): string {
  return `[general]
accounts = mallard
metadata = ${dir}/metadata
maxsyncaccounts = 1

[Account mallard]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = ${maildir}
sep = /

[Repository remote]
type = IMAP
remotehost = 127.0.0.1
remoteport = ${port}
remoteuser = ${account.username}
remotepass = ${account.password}
ssl = no
starttls = no
createfolders = True
maxconnections = 2
holdconnectionopen = no
`;
}

async function sync(): Promise<ProcessResult> {
  const result = await runProcess(
    'offlineimap',
    ['-c', path.join(dir, 'offlineimaprc'), '-o', '-u', 'basic'],
    {
      timeoutMs: SYNC_TIMEOUT_MS,
      env: { ...process.env, HOME: dir },
    },
  );
  const output = `${result.stderr}\n${result.stdout}`;
  if (result.status !== 0 || result.timedOut || /ERROR|Traceback/.test(output)) {
    throw new Error(`offlineimap failed (status ${result.status}, timed out ${result.timedOut}):\n${output}`);
  }
  return result;
}

beforeAll(async () => {
  if (!AVAILABLE) return;
  server = await startTestServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-offlineimap-'));
  maildir = path.join(dir, 'mail');
  fs.mkdirSync(maildir);
  account = await seedAccount(server, 'sync-offlineimap@example.test', 'sync pass');
  fs.writeFileSync(path.join(dir, 'offlineimaprc'), config(server.imapPort), { mode: 0o600 });
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const expectBothSidesMatchModel = () => expectSidesMatch(server, account, maildir);

describe.skipIf(!AVAILABLE)('offlineimap two-way sync of a 1,000-message account', () => {
  it('downloads every message, byte for byte, with its flags', { timeout: 120_000 }, async () => {
    const first = await sync();
    expect(first.ms).toBeLessThan(SYNC_TIMEOUT_MS);
    const local = readMaildir(maildir);
    const count = [...local.folders.values()].reduce((sum, messages) => sum + messages.size, 0);
    expect(count).toBe(1000);
    await expectBothSidesMatchModel();
  });

  it(
    'merges changes made on both sides, and a further sync changes nothing',
    { timeout: 180_000 },
    async () => {
      changeMaildir(new MaildirEditor(maildir, account.model), account.model);
      await changeServer(server, account);
      await sync();
      await expectBothSidesMatchModel();
      await sync();
      await expectBothSidesMatchModel();
    },
  );
});
