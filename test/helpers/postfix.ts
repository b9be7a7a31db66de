/**
 * Debian's Postfix as the receiving MTA of the sending tests: an instance of its own (config,
 * queue and mail directories in a temp dir) listening on one loopback address and port, with
 * STARTTLS on a throw-away certificate, virtual mailboxes (Maildir) for the listed addresses —
 * other recipients get Postfix's own 550 5.1.1 — and a recipient access table for scripted
 * refusals (e.g. "later@x.test 451 4.7.1 greylisted"). Stopped by the test (`postfix stop`).
 *
 * With `sasl`, it is a relay: AUTH (PLAIN, LOGIN) through Debian's Dovecot auth socket (Postfix's
 * `smtpd_sasl_type = dovecot`), relaying for authenticated clients only, and `mynetworks` empty so
 * that loopback gets no free pass.
 *
 * Postfix's own mail (delivery reports to a sender) goes where a transport table says
 * (`setTransport`, e.g. "example.test smtp:[127.0.0.1]:2525" to a Mallard under test); with
 * `dsn: false` it hides the DSN extension (RFC 3461) from its EHLO reply, as a next hop without it.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startDovecot, type DovecotServer } from './dovecot.ts';
import { freePort } from './ports.ts';

export interface Postfix {
  host: string;
  port: number;
  dir: string;
  /** Messages delivered to `address` so far (raw bytes, oldest first). */
  delivered(address: string): Buffer[];
  /** The master process's id (its children are the smtpd, cleanup, qmgr... of this instance). */
  masterPid(): number;
  /** Postfix's log so far (maillog_file), e.g. to count connections. */
  log(): string;
  /** Replaces the recipient access table ("address CODE text" lines) and reloads Postfix. */
  setAccess(lines: string[]): Promise<void>;
  /** Replaces the transport table ("domain smtp:[host]:port" lines) and reloads Postfix. */
  setTransport(lines: string[]): Promise<void>;
  stop(): Promise<void>;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

/**
 * Runs a postfix command that may leave a daemon behind: the daemon inherits the output streams,
 * so the command is awaited by its exit, with its output not captured.
 */
function postfixCommand(dir: string, verb: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('postfix', ['-c', dir, verb], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`postfix ${verb} exited with ${code}`)),
    );
  });
}

function mailboxName(address: string): string {
  return address.replace(/[^a-z0-9]/gi, '_');
}

/** Waits until something accepts TCP connections on host:port. */
async function waitForListener(host: string, port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface PostfixOptions {
  host: string;
  mailboxes: string[];
  /** Relay for this login only (SASL through Dovecot's auth service). */
  sasl?: { username: string; password: string };
  /** Listen on this port (default: a free one). */
  port?: number;
  /** STARTTLS certificate and key (PEM files) instead of a self-signed one. */
  tls?: { certFile: string; keyFile: string };
  /** A milter every message passes (smtpd_milters, e.g. rspamd's proxy: "inet:127.0.0.1:PORT"). */
  milter?: string;
  /** false: no DSN in the EHLO reply (smtpd_discard_ehlo_keywords), a next hop without RFC 3461. */
  dsn?: boolean;
}

/** Dovecot serving only its auth socket, at `socket`, for Postfix's SASL. */
function startSaslDovecot(socket: string, username: string, password: string): Promise<DovecotServer> {
  return startDovecot(
    [[username, password]],
    `service auth {\n  unix_listener ${socket} {\n    mode = 0666\n  }\n}\n`,
  );
}

export async function startPostfix(options: PostfixOptions): Promise<Postfix> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-postfix-'));
  // Postfix's daemons run as the postfix user and must reach their directories.
  fs.chmodSync(dir, 0o755);
  const port = options.port ?? (await freePort(options.host));
  const mail = path.join(dir, 'mail');
  fs.mkdirSync(mail);
  const postfixUid = Number((await run('id', ['-u', 'postfix'])).trim());
  const postfixGid = Number((await run('id', ['-g', 'postfix'])).trim());
  fs.chownSync(mail, postfixUid, postfixGid);
  fs.mkdirSync(path.join(dir, 'queue'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.chownSync(path.join(dir, 'data'), postfixUid, postfixGid);
  if (options.tls) {
    fs.copyFileSync(options.tls.certFile, path.join(dir, 'cert.pem'));
    fs.copyFileSync(options.tls.keyFile, path.join(dir, 'key.pem'));
  } else {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=mx.postfix.test',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ]);
  }
  const saslSocket = path.join(dir, 'sasl-auth');
  const dovecot = options.sasl
    ? await startSaslDovecot(saslSocket, options.sasl.username, options.sasl.password)
    : null;
  const domains = [...new Set(options.mailboxes.map((address) => address.split('@')[1]!))];
  fs.writeFileSync(
    path.join(dir, 'mailboxes'),
    options.mailboxes.map((address) => `${address} ${mailboxName(address)}/\n`).join(''),
  );
  fs.writeFileSync(path.join(dir, 'access'), '');
  fs.writeFileSync(path.join(dir, 'transport'), '');
  fs.writeFileSync(
    path.join(dir, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${dir}/queue`,
      `data_directory = ${dir}/data`,
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'myhostname = mx.postfix.test',
      'mydestination =',
      // Postfix only knows addresses of interfaces (127.0.0.1); master.cf binds the one we want.
      'inet_interfaces = all',
      'inet_protocols = ipv4',
      'mynetworks =',
      'smtputf8_enable = yes',
      `transport_maps = texthash:${dir}/transport`,
      ...(options.dsn === false ? ['smtpd_discard_ehlo_keywords = dsn'] : []),
      `virtual_mailbox_domains = ${domains.join(' ')}`,
      `virtual_mailbox_base = ${mail}`,
      `virtual_mailbox_maps = texthash:${dir}/mailboxes`,
      `virtual_uid_maps = static:${postfixUid}`,
      `virtual_gid_maps = static:${postfixGid}`,
      'virtual_minimum_uid = 1',
      options.sasl
        ? 'smtpd_recipient_restrictions = permit_sasl_authenticated, reject'
        : `smtpd_recipient_restrictions = check_recipient_access texthash:${dir}/access, reject_unauth_destination`,
      'smtpd_tls_security_level = may',
      `smtpd_tls_cert_file = ${dir}/cert.pem`,
      `smtpd_tls_key_file = ${dir}/key.pem`,
      'smtpd_tls_received_header = yes',
      ...(options.sasl
        ? [
            'smtpd_sasl_auth_enable = yes',
            'smtpd_sasl_type = dovecot',
            `smtpd_sasl_path = ${saslSocket}`,
            'smtpd_sasl_authenticated_header = yes',
            'smtpd_tls_auth_only = no',
            'smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination',
          ]
        : []),
      ...(options.milter
        ? [`smtpd_milters = ${options.milter}`, 'milter_protocol = 6', 'milter_default_action = tempfail']
        : []),
      `maillog_file_prefixes = ${dir}`,
      `maillog_file = ${dir}/maillog`,
      'biff = no',
      '',
    ].join('\n'),
  );
  const master = fs
    .readFileSync('/etc/postfix/master.cf', 'utf8')
    .split('\n')
    .filter((line) => !/^(smtp|submission|submissions|smtps)\s+inet/.test(line))
    .join('\n');
  fs.writeFileSync(path.join(dir, 'master.cf'), `${options.host}:${port} inet n - n - - smtpd\n${master}`);
  await postfixCommand(dir, 'start');
  await waitForListener(options.host, port);
  return {
    host: options.host,
    port,
    dir,
    delivered(address) {
      const folder = path.join(mail, mailboxName(address), 'new');
      if (!fs.existsSync(folder)) return [];
      return fs
        .readdirSync(folder)
        .map((name) => ({ name, time: fs.statSync(path.join(folder, name)).mtimeMs }))
        .sort((a, b) => a.time - b.time || a.name.localeCompare(b.name))
        .map(({ name }) => fs.readFileSync(path.join(folder, name)));
    },
    masterPid() {
      return Number(fs.readFileSync(path.join(dir, 'queue', 'pid', 'master.pid'), 'utf8').trim());
    },
    log() {
      try {
        return fs.readFileSync(path.join(dir, 'maillog'), 'utf8');
      } catch {
        return '';
      }
    },
    async setAccess(lines) {
      fs.writeFileSync(path.join(dir, 'access'), lines.map((line) => `${line}\n`).join(''));
      await postfixCommand(dir, 'reload');
    },
    async setTransport(lines) {
      fs.writeFileSync(path.join(dir, 'transport'), lines.map((line) => `${line}\n`).join(''));
      await postfixCommand(dir, 'reload');
    },
    async stop() {
      await postfixCommand(dir, 'stop').catch(() => undefined);
      await dovecot?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
