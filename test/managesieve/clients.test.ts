/**
 * Real ManageSieve clients against Mallard: Debian's sieve-connect (STARTTLS required, one-shot
 * actions and an --exec batch) and Python's managesieve from PyPI (STARTTLS, PLAIN and LOGIN, every
 * script command). Then the proof that matters to a user: a script uploaded and activated over
 * ManageSieve files a message delivered over LMTP into a folder, which an IMAP client sees.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmtpLineClient } from '../delivery/clients.ts';
import { closeClients, imapflowClient, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { runProcess } from '../helpers/process.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
/** Python with managesieve 0.8.1: the venv .ci/run makes, else the system's (pip install --user). */
const PYTHON = fs.existsSync(path.join(ROOT, '.venv-test/bin/python'))
  ? path.join(ROOT, '.venv-test/bin/python')
  : 'python3';

let server: TestServer;
let work: string;
beforeAll(async () => {
  server = await startTestServer();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-sieve-clients-'));
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(work, { recursive: true, force: true });
});
afterEach(() => closeClients());

const FILING_SCRIPT = `require ["fileinto", "mailbox", "imap4flags"];
# Receipts go to their own folder, flagged.
if header :contains "subject" "receipt" {
  addflag "\\\\Flagged";
  fileinto :create "Receipts";
  stop;
}
`;

/**
 * Runs sieve-connect as the account, the password on stdin. --noclearchan makes it refuse to go on
 * without TLS, so every session here proves STARTTLS.
 */
function sieveConnect(account: Account, args: string[]) {
  return runProcess(
    'sieve-connect',
    [
      '--server',
      '127.0.0.1',
      '--port',
      String(server.managesievePort),
      '--user',
      account.username,
      '--notlsverify',
      '--noclearchan',
      '--noclearauth',
      '--passwordfd',
      '0',
      ...args,
    ],
    { input: `${account.password}\n`, timeoutMs: 60_000 },
  );
}

function writeFile(name: string, content: string): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, content);
  return file;
}

async function lmtpDeliver(recipient: string, subject: string): Promise<string[]> {
  const { client } = await SmtpLineClient.connect(server.lmtpPort);
  try {
    await client.command('LHLO client.test');
    await client.command('MAIL FROM:<shop@remote.test>');
    expect(await client.command(`RCPT TO:<${recipient}>`)).toMatch(/^250 /);
    const raw = `From: shop@remote.test\r\nTo: ${recipient}\r\nSubject: ${subject}\r\nMessage-ID: <${Date.now()}.${subject.length}@remote.test>\r\n\r\nThank you.\r\n`;
    return await client.data(Buffer.from(raw));
  } finally {
    client.close();
  }
}

describe('sieve-connect', () => {
  it('uploads, lists, activates, downloads over STARTTLS; a broken script fails with its line and column', async () => {
    const account = await newAccount(server);
    const upload = await sieveConnect(account, [
      '--upload',
      '--localsieve',
      writeFile('filing.sieve', FILING_SCRIPT),
      '--remotesieve',
      'filing',
    ]);
    expect(upload.status, upload.stderr).toBe(0);
    expect((await sieveConnect(account, ['--list'])).stdout).toBe('"filing"\n');
    expect((await sieveConnect(account, ['--activate', '--remotesieve', 'filing'])).status).toBe(0);
    expect((await sieveConnect(account, ['--list'])).stdout).toBe('"filing" ACTIVE\n');
    const downloaded = path.join(work, 'downloaded.sieve');
    const download = await sieveConnect(account, [
      '--download',
      '--remotesieve',
      'filing',
      '--localsieve',
      downloaded,
    ]);
    expect(download.status, download.stderr).toBe(0);
    expect(fs.readFileSync(downloaded, 'utf8')).toBe(FILING_SCRIPT);

    const broken = await sieveConnect(account, [
      '--upload',
      '--localsieve',
      writeFile('broken.sieve', 'require "fileinto";\nif true {\n  fileinto "A"\n}\n'),
      '--remotesieve',
      'broken',
    ]);
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toMatch(/PUTSCRIPT\(broken\) failed: NO "line 4, column 1: expected /);
    expect((await sieveConnect(account, ['--list'])).stdout).toBe('"filing" ACTIVE\n');
  });

  it('runs an --exec batch: upload, checkscript, activate, deactivate, delete', async () => {
    const account = await newAccount(server);
    const batch = writeFile(
      'batch.txt',
      [
        `upload ${writeFile('one.sieve', 'keep;\n')} one`,
        `upload ${writeFile('two.sieve', 'discard;\n')} two`,
        `checkscript ${writeFile('check.sieve', 'require "vacation";\nvacation "Away";\n')}`,
        'activate two',
        'list',
        'deactivate',
        'delete one',
        'list',
        'quit',
        '',
      ].join('\n'),
    );
    const run = await sieveConnect(account, ['--exec', batch]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('"two" ACTIVE');
    const scripts = await server.server.store.listSieveScripts(account.userId);
    expect(scripts.map((script) => [script.name, script.active])).toEqual([['two', false]]);
  });
});

describe("Python's managesieve", () => {
  interface Output {
    tls_offered: number;
    starttls: string;
    tls_offered_after: number;
    implementation: string;
    sieve_extensions: string[];
    login_mechanisms: string[];
    wrong_password: string;
    plain: string;
    havespace: string;
    put: string;
    put_bad: [string, string | null, string];
    put_second: string;
    setactive: string;
    list: [string, Array<[string, boolean]>];
    get: [string, string];
    get_missing: [string, string, string];
    delete_active: [string, string, string];
    delete: string;
    deactivate: string;
    list_after: [string, Array<[string, boolean]>];
    logout: string;
    login: string;
    login_list: [string, Array<[string, boolean]>];
  }

  it('STARTTLS, PLAIN and LOGIN, and every script command with its response codes', async () => {
    const account = await newAccount(server);
    const script = 'require "vacation";\r\nvacation :days 7 "I am away.";\r\n';
    const run = await runProcess(PYTHON, [path.join(HERE, 'clients', 'managesieve_session.py')], {
      input: JSON.stringify({
        port: server.managesievePort,
        username: account.username,
        password: account.password,
        script,
        bad_script: 'require "vacation";\r\nvacation :days "seven" "Away";\r\n',
      }),
      timeoutMs: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as Output;
    expect(out.tls_offered).toBe(1);
    expect(out.starttls).toBe('OK');
    expect(out.tls_offered_after).toBe(0);
    expect(out.implementation).toMatch(/^Mallard /);
    expect(out.sieve_extensions).toEqual(expect.arrayContaining(['fileinto', 'vacation', 'imap4flags']));
    expect(out.login_mechanisms).toEqual(['PLAIN', 'LOGIN']);
    expect(out.wrong_password).toBe('NO');
    expect(out.plain).toBe('OK');
    expect(out.havespace).toBe('OK');
    expect(out.put).toBe('OK');
    expect(out.put_bad[0]).toBe('NO');
    expect(out.put_bad[2]).toMatch(/^line 2, column \d+: /);
    expect(out.put_second).toBe('OK');
    expect(out.setactive).toBe('OK');
    expect(out.list).toEqual([
      'OK',
      [
        ['spare', false],
        ['vacation', true],
      ],
    ]);
    expect(out.get).toEqual(['OK', script]);
    expect(out.get_missing).toEqual(['NO', 'NONEXISTENT', 'There is no script by that name']);
    expect(out.delete_active).toEqual(['NO', 'ACTIVE', 'The active script cannot be deleted']);
    expect(out.delete).toBe('OK');
    expect(out.deactivate).toBe('OK');
    expect(out.list_after).toEqual(['OK', [['vacation', false]]]);
    expect(out.logout).toBe('OK');
    expect(out.login).toBe('OK');
    expect(out.login_list).toEqual(['OK', [['vacation', false]]]);
  });
});

describe('a script managed over ManageSieve at delivery', () => {
  it('files a message delivered over LMTP into the folder the script names, as IMAP then shows', async () => {
    const account = await newAccount(server);
    const file = writeFile('receipts.sieve', FILING_SCRIPT);
    expect(
      (await sieveConnect(account, ['--upload', '--localsieve', file, '--remotesieve', 'receipts'])).status,
    ).toBe(0);
    expect((await sieveConnect(account, ['--activate', '--remotesieve', 'receipts'])).status).toBe(0);

    expect(await lmtpDeliver(account.username, 'Your receipt #12')).toEqual([expect.stringMatching(/^250 /)]);
    expect(await lmtpDeliver(account.username, 'Hello there')).toEqual([expect.stringMatching(/^250 /)]);

    const imap = await imapflowClient(account);
    const receipts = await imap.mailboxOpen('Receipts');
    expect(receipts.exists).toBe(1);
    const [filed] = await imap.fetchAll('1:*', { envelope: true, flags: true });
    expect(filed?.envelope?.subject).toBe('Your receipt #12');
    expect([...(filed?.flags ?? [])]).toContain('\\Flagged');
    const inbox = await imap.mailboxOpen('INBOX');
    expect(inbox.exists).toBe(1);

    // Deactivated over ManageSieve: the next receipt stays in INBOX.
    expect((await sieveConnect(account, ['--deactivate'])).status).toBe(0);
    expect(await lmtpDeliver(account.username, 'Another receipt')).toEqual([expect.stringMatching(/^250 /)]);
    const count = async (mailbox: string) => {
      const status = await imap.status(mailbox, { messages: true });
      return status === false ? null : status.messages;
    };
    expect(await count('Receipts')).toBe(1);
    expect(await count('INBOX')).toBe(2);
  });
});
