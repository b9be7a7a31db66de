/**
 * Debian's getmail6 against Mallard: a 500-message maildrop downloaded over implicit TLS (the
 * certificate verified against the server's own) into a Maildir, every message's bytes checked,
 * and the maildrop emptied (`delete = true`). getmail writes Maildir files with LF line ends and,
 * with `delivered_to` and `received` off, adds at most a Return-Path header, which is taken off
 * before comparing. getmail refuses to deliver as root, so a root test run starts it as nobody.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { asFetched, byMessageId, maildropMessage, pop3Account } from '../helpers/pop3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let workDir: string;

beforeAll(async () => {
  server = await startTestServer();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-getmail-'));
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

const MESSAGES = 500;

/**
 * Debian's getmail6, unchanged but for one race of its own: it forks a child for every Maildir
 * delivery and installs its SIGCHLD handler only after fork() returns, so a child that exits first
 * (likely on a busy machine) is never noticed and getmail waits out its whole timeout for it
 * (getmailcore/baseclasses.py, ForkingBase.forkchild). This runs getmail's own script with the
 * handler installed before the fork.
 */
const GETMAIL_WITHOUT_LOST_CHILDREN = `
import runpy, sys
from getmailcore.baseclasses import ForkingBase
prepare, fork_child = ForkingBase._prepare_child, ForkingBase.forkchild
def forkchild(self, childfun, with_out=True):
    prepare(self)
    self._prepare_child = lambda: None
    try:
        return fork_child(self, childfun, with_out)
    finally:
        del self._prepare_child
ForkingBase.forkchild = forkchild
sys.argv = ['getmail'] + sys.argv[1:]
runpy.run_path('/usr/bin/getmail', run_name='__main__')
`;

it('getmail6 downloads a 500-message maildrop over implicit TLS, every byte right, and empties it', async () => {
  const stored = Array.from({ length: MESSAGES }, (_, index) => maildropMessage(index + 1));
  const account = await pop3Account(server, stored);
  const maildir = path.join(workDir, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp'])
    fs.mkdirSync(path.join(maildir, sub), { recursive: true, mode: 0o777 });
  for (const sub of ['cur', 'new', 'tmp']) fs.chmodSync(path.join(maildir, sub), 0o777);
  // getmail will not deliver as root: when the tests run as root, it delivers as nobody.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) for (const dir of [workDir, maildir]) fs.chmodSync(dir, 0o777);
  const rc = path.join(workDir, 'getmailrc');
  // A copy of the server's certificate where getmail (perhaps running as nobody) can read it.
  const caFile = path.join(workDir, 'ca.crt');
  fs.copyFileSync(path.join(server.config.data_dir, 'tls', 'default.crt'), caFile);
  fs.chmodSync(caFile, 0o644);
  fs.writeFileSync(
    rc,
    [
      '[retriever]',
      'type = SimplePOP3SSLRetriever',
      'server = 127.0.0.1',
      `port = ${server.pop3sPort}`,
      `username = ${account.username}`,
      `password = ${account.password}`,
      `ca_certs = ${caFile}`,
      'ssl_cert_hostname = localhost',
      '',
      '[destination]',
      'type = Maildir',
      `path = ${maildir}/`,
      '',
      '[options]',
      'read_all = true',
      'delete = true',
      'delivered_to = false',
      'received = false',
      'verbose = 1',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  if (asRoot) fs.chownSync(rc, 65534, 65534);
  // Run as nobody when root: getmail refuses root deliveries, and its own `user =` switch forks a
  // process per message, which makes a 500-message run take minutes.
  const { stdout, stderr } = await promisify(execFile)(
    'python3',
    ['-c', GETMAIL_WITHOUT_LOST_CHILDREN, '--getmaildir', workDir, '--rcfile', rc],
    {
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      timeout: 110_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  expect(stderr).toBe('');
  expect(stdout).toMatch(new RegExp(`${MESSAGES} messages \\(\\d+ bytes\\) retrieved, 0 skipped`));

  const files = fs
    .readdirSync(path.join(maildir, 'new'))
    .map((file) => fs.readFileSync(path.join(maildir, 'new', file)));
  expect(files).toHaveLength(MESSAGES);
  const fetched = byMessageId(files);
  stored.forEach((raw, index) => {
    const file = fetched.get(`${index + 1}.maildrop@example.test`);
    expect(file, `message ${index + 1}`).toBeDefined();
    const received = file!.toString('latin1').replace(/^Return-Path: [^\n]*\n/, '');
    const expected = asFetched(raw).toString('latin1').replace(/\r\n/g, '\n');
    expect(received === expected, `bytes of message ${index + 1}`).toBe(true);
  });
  expect(await server.server.store.listMessages(account.inboxId)).toEqual([]);
}, 120_000);
