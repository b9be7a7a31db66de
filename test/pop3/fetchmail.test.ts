/**
 * Debian's fetchmail against Mallard: a 500-message maildrop downloaded over STLS (certificate
 * verified against the server's own) with every message's bytes checked and the maildrop emptied
 * by its DELE/QUIT; then, over implicit TLS with `uidl` and `keep`, a second run that fetches only
 * the messages the first did not see (UIDL stable across sessions).
 *
 * fetchmail passes each message on as it came off the wire: to an MDA (one file per message) or,
 * for the 500 (a process per message is slow), into one BSMTP file. `no stripcr` keeps the CRLF
 * line ends and `invisible` leaves out the Received header it would add, so each message must equal
 * the stored one with CRLF line ends.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asFetched,
  byMessageId,
  maildropMessage,
  pop3Account,
  unstuff,
  type Pop3Account,
} from '../helpers/pop3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let workDir: string;

beforeAll(async () => {
  server = await startTestServer();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-fetchmail-'));
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

async function runFetchmail(
  name: string,
  account: Pop3Account,
  serverOptions: string,
  userOptions: string,
  delivery: 'mda' | 'bsmtp',
): Promise<{ files: Buffer[]; log: string }> {
  const dir = path.join(workDir, name);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out, { recursive: true });
  const mda = path.join(dir, 'deliver.sh');
  fs.writeFileSync(mda, `#!/bin/sh\nexec cat > "$(mktemp '${out}/msg.XXXXXXXX')"\n`, { mode: 0o755 });
  const certificate = path.join(server.config.data_dir, 'tls', 'default.crt');
  const rc = path.join(dir, 'fetchmailrc');
  fs.writeFileSync(
    rc,
    [
      'set no bouncemail',
      'set invisible',
      `poll localhost via 127.0.0.1 ${serverOptions}`,
      `  user "${account.username}" there with password "${account.password}" is "${os.userInfo().username}" here`,
      `  options ${userOptions} no rewrite no stripcr sslcertck sslcommonname localhost sslcertfile "${certificate}"`,
      delivery === 'mda' ? `  mda "${mda}"` : `  bsmtp "${path.join(dir, 'bsmtp')}"`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const run = promisify(execFile);
  let log: string;
  try {
    const result = await run(
      'fetchmail',
      [
        '-f',
        rc,
        '--nosyslog',
        '-v',
        '--idfile',
        path.join(workDir, `${name}.ids`),
        '--pidfile',
        path.join(dir, 'pid'),
      ],
      {
        env: { ...process.env, HOME: dir, FETCHMAILHOME: dir },
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    log = result.stdout + result.stderr;
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    // Exit status 1 means "no mail": not a failure.
    if (failure.code !== 1)
      throw new Error(`fetchmail failed (${failure.code}): ${failure.stdout}\n${failure.stderr}`);
    log = `${failure.stdout}${failure.stderr}`;
  }
  const files =
    delivery === 'mda'
      ? fs.readdirSync(out).map((file) => fs.readFileSync(path.join(out, file)))
      : splitBsmtp(fs.readFileSync(path.join(dir, 'bsmtp')));
  fs.rmSync(out, { recursive: true });
  fs.rmSync(path.join(dir, 'bsmtp'), { force: true });
  return { files, log };
}

/**
 * The messages of a BSMTP file: each is `MAIL FROM`, `RCPT TO`, `DATA`, the message dot-stuffed,
 * and "." on a line of its own.
 */
function splitBsmtp(file: Buffer): Buffer[] {
  const text = file.toString('latin1');
  const messages: Buffer[] = [];
  for (let start = 0; start < text.length;) {
    const data = text.indexOf('\r\nDATA\r\n', start);
    if (data === -1) break;
    const bodyStart = data + 8;
    const end = text.indexOf('\r\n.\r\n', bodyStart - 2);
    expect(end, 'BSMTP message terminated').toBeGreaterThan(0);
    messages.push(unstuff(Buffer.from(text.slice(bodyStart, end + 2), 'latin1')));
    start = end + 5;
  }
  return messages;
}

describe('fetchmail', () => {
  it('downloads a 500-message maildrop over STLS, every byte right, and empties it', async () => {
    const stored = Array.from({ length: 500 }, (_, index) => maildropMessage(index + 1));
    const account = await pop3Account(server, stored);
    const { files, log } = await runFetchmail(
      'bulk',
      account,
      `protocol pop3 port ${server.pop3Port}`,
      'fetchall',
      'bsmtp',
    );
    expect(log).toMatch(/upgrade to TLS succeeded/);
    expect(log).toMatch(/500 messages for .* \(\d+ octets\)/);
    expect(log).not.toMatch(/was not the expected length/);
    expect(files).toHaveLength(500);
    const fetched = byMessageId(files);
    stored.forEach((raw, index) => {
      const file = fetched.get(`${index + 1}.maildrop@example.test`);
      expect(file, `message ${index + 1}`).toBeDefined();
      expect(file!.equals(asFetched(raw)), `bytes of message ${index + 1}`).toBe(true);
    });
    // fetchmail deleted each message after delivery; QUIT made it so.
    expect(await server.server.store.listMessages(account.inboxId)).toEqual([]);
  });

  it('keeps mail with uidl + keep over implicit TLS and fetches only new messages next time', async () => {
    const account = await pop3Account(server, [
      maildropMessage(1001),
      maildropMessage(1002),
      maildropMessage(1003),
    ]);
    const serverOptions = `protocol pop3 port ${server.pop3sPort} uidl`;
    const first = await runFetchmail('uidl', account, serverOptions, 'ssl keep', 'mda');
    expect([...byMessageId(first.files).keys()].sort()).toEqual([
      '1001.maildrop@example.test',
      '1002.maildrop@example.test',
      '1003.maildrop@example.test',
    ]);
    expect(await server.server.store.listMessages(account.inboxId)).toHaveLength(3);

    await server.server.store.append(account.inboxId, maildropMessage(1004));
    const second = await runFetchmail('uidl', account, serverOptions, 'ssl keep', 'mda');
    const fetched = byMessageId(second.files);
    expect([...fetched.keys()]).toEqual(['1004.maildrop@example.test']);
    expect(fetched.get('1004.maildrop@example.test')!.equals(asFetched(maildropMessage(1004)))).toBe(true);
    expect(await server.server.store.listMessages(account.inboxId)).toHaveLength(4);
  });
});
