/**
 * Debian's mbsync (isync) doing a full two-way sync of a 1,000-message account with Mallard: the
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
  stripAddedHeader,
  type SeededAccount,
  expectBothSidesMatchModel as expectSidesMatch,
} from '../helpers/sync-account.ts';

const AVAILABLE = haveProgram('mbsync');
if (!AVAILABLE) console.warn('mbsync: skipped — mbsync is not installed (apt-get install isync)');

/** Each sync of 1,000 messages on loopback takes a few seconds; a minute means something hangs. */
const SYNC_TIMEOUT_MS = 60_000;

/**
 * mbsync writes its own tracking header, "X-TUID: <12 characters>", into the header of every
 * message it copies (either way), to find the message again after an interrupted sync. That one
 * line is taken out before comparing bytes; nothing else is normalised.
 */
const stripTuid = stripAddedHeader('X-TUID', /[A-Za-z0-9+/]{12}/);

let server: TestServer;
let account: SeededAccount;
let dir: string;
let maildir: string;

function config(port: number): string {
  return `IMAPAccount mallard
Host 127.0.0.1
Port ${port}
User ${account.username}
Pass "${account.password}"
SSLType None
AuthMechs LOGIN
Timeout 30

IMAPStore remote
Account mallard

MaildirStore local
Path ${maildir}/
Inbox ${maildir}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
CopyArrivalDate yes
`;
}

async function sync(): Promise<ProcessResult> {
  const result = await runProcess('mbsync', ['-c', path.join(dir, 'mbsyncrc'), '-a'], {
    timeoutMs: SYNC_TIMEOUT_MS,
    env: { ...process.env, HOME: dir },
  });
  if (result.status !== 0 || result.timedOut) {
    throw new Error(
      `mbsync failed (status ${result.status}, timed out ${result.timedOut}):\n${result.stderr}\n${result.stdout}`,
    );
  }
  // The server's goodbye (BYE and LOGOUT's tagged OK) must arrive before it closes.
  expect(result.stderr).not.toMatch(/unexpected EOF/i);
  return result;
}

beforeAll(async () => {
  if (!AVAILABLE) return;
  server = await startTestServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-mbsync-'));
  maildir = path.join(dir, 'mail');
  fs.mkdirSync(maildir);
  account = await seedAccount(server, 'sync-mbsync@example.test', 'sync pass');
  fs.writeFileSync(path.join(dir, 'mbsyncrc'), config(server.imapPort), { mode: 0o600 });
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const expectBothSidesMatchModel = () => expectSidesMatch(server, account, maildir, stripTuid);

describe.skipIf(!AVAILABLE)('mbsync two-way sync of a 1,000-message account', () => {
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
