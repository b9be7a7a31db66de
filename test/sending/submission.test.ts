/**
 * Submission on 587 (STARTTLS) and 465 (implicit TLS) over real TCP against a real server:
 * AUTH only after TLS, the shared login path (wrong password, app password), sender ownership
 * (envelope and From header, aliases yes, catch-alls no), per-user limits, SIZE and the extensions
 * advertised, local recipients stored at once and remote ones queued in the store; with raw
 * transcripts and Python's smtplib.
 */
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashPassword } from '../../server/auth/password.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';
import { inboxCount, newestInInbox, python, SmtpLineClient } from '../delivery/clients.ts';

const SIZE_LIMIT = 50_000;
let server: TestServer;
let alice: string;
let bob: string;
let submissionPort: number;
let submissionsPort: number;

beforeAll(async () => {
  server = await startTestServer({
    MALLARD_LIMITS_MAX_MESSAGE_SIZE: String(SIZE_LIMIT),
    MALLARD_SUBMISSION_HOST: '127.0.0.1',
    MALLARD_SUBMISSION_MAX_RECIPIENTS: '3',
    MALLARD_SUBMISSION_MAX_MESSAGES_PER_HOUR: '20',
    // AUTH only after TLS, loopback included: these tests come from loopback.
    MALLARD_TLS_PLAINTEXT_AUTH_ON_LOOPBACK: 'false',
    // Nothing answers there: remote recipients stay in the queue for the test to look at.
    MALLARD_DNS_SERVERS: '127.0.0.1:9',
    MALLARD_DKIM_ENABLED: 'false',
  });
  alice = await server.addUser('alice@example.test', 'secret');
  bob = await server.addUser('bob@example.test', 'secret');
  await server.server.store.addAddress(alice, 'ally@example.test');
  await server.server.store.addAddress(alice, '*@family.test');
  submissionPort = server.server.submission.listeners.find((l) => !l.implicitTls)!.port;
  submissionsPort = server.server.submission.listeners.find((l) => l.implicitTls)!.port;
});
afterAll(() => server.stop());

function message(from: string, to: string, subject: string, body = 'Hello.'): Buffer {
  return Buffer.from(`From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);
}

const plain = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64');

/** A session on 587 after STARTTLS and EHLO, logged in when `login` is given. */
async function session(login?: [string, string]): Promise<SmtpLineClient> {
  const { client, greeting } = await SmtpLineClient.connect(submissionPort);
  expect(greeting).toMatch(/^220 localhost /);
  await client.command('EHLO client.test');
  expect(await client.command('STARTTLS')).toMatch(/^220 /);
  await client.startTls();
  await client.command('EHLO client.test');
  if (login) expect(await client.command(`AUTH PLAIN ${plain(...login)}`)).toMatch(/^235 2\.7\.0/);
  return client;
}

const smtplibScript = `
import json, smtplib, ssl, sys
a = json.load(sys.stdin)
ctx = ssl._create_unverified_context()
if a['implicit']:
    c = smtplib.SMTP_SSL('127.0.0.1', a['port'], local_hostname='client.test', context=ctx)
else:
    c = smtplib.SMTP('127.0.0.1', a['port'], local_hostname='client.test')
    c.ehlo()
    before = sorted(c.esmtp_features.keys())
    c.starttls(context=ctx)
c.ehlo()
features = {k: v for k, v in c.esmtp_features.items()}
try:
    c.login(a['user'], a['password'])
    refused = c.sendmail(a['from'], a['to'], a['message'].encode('latin-1'))
    result = {'refused': {k: [v[0], v[1].decode()] for k, v in refused.items()}}
except smtplib.SMTPAuthenticationError as e:
    result = {'error': 'auth', 'code': e.smtp_code, 'text': e.smtp_error.decode()}
except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
    result = {'error': type(e).__name__, 'code': e.smtp_code, 'text': e.smtp_error.decode()}
result['features'] = features
if not a['implicit']:
    result['before'] = before
c.quit()
print(json.dumps(result))
`;

interface SmtplibResult {
  refused?: Record<string, [number, string]>;
  error?: string;
  code?: number;
  text?: string;
  features: Record<string, string>;
  before?: string[];
}

function smtplib(options: {
  implicit: boolean;
  user?: string;
  password?: string;
  from: string;
  to: string[];
  message: Buffer;
}): Promise<SmtplibResult> {
  return python<SmtplibResult>(smtplibScript, {
    implicit: options.implicit,
    port: options.implicit ? submissionsPort : submissionPort,
    user: options.user ?? 'alice@example.test',
    password: options.password ?? 'secret',
    from: options.from,
    to: options.to,
    message: options.message.toString('latin1'),
  });
}

async function queuedTo(address: string) {
  const all = await server.server.store.listOutbound();
  return all.filter((message) => message.recipients.some((recipient) => recipient.address === address));
}

describe('submission', () => {
  it('587: offers AUTH only after STARTTLS, stores local mail and queues remote mail (smtplib)', async () => {
    const raw = message('alice@example.test', 'bob@example.test, carol@remote.test', 'via 587');
    const before = await inboxCount(server, bob);
    const result = await smtplib({
      implicit: false,
      from: 'alice@example.test',
      to: ['bob@example.test', 'carol@remote.test'],
      message: raw,
    });
    expect(result).toMatchObject({ refused: {} });
    expect(result.before).not.toContain('auth');
    expect(result.before).toContain('starttls');
    // smtplib keeps the space after AUTH in the value.
    expect(result.features.auth!.trim()).toBe('PLAIN LOGIN');
    expect(result.features).toMatchObject({
      size: String(SIZE_LIMIT),
      '8bitmime': '',
      smtputf8: '',
      pipelining: '',
      enhancedstatuscodes: '',
    });
    expect(await inboxCount(server, bob)).toBe(before + 1);
    const stored = (await newestInInbox(server, bob)).toString('latin1');
    // A local copy is traced as every delivery is: Return-Path, Delivered-To, then Received.
    expect(stored).toMatch(
      /^Return-Path: <alice@example\.test>\r\nDelivered-To: bob@example\.test\r\nReceived: from client\.test \(\[127\.0\.0\.1\]\)\r\n\t\(using TLS/,
    );
    expect(stored).toMatch(/with ESMTPSA id /);
    expect(stored.endsWith(raw.toString('latin1'))).toBe(true);
    const queued = await queuedTo('carol@remote.test');
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ userId: alice, sender: 'alice@example.test' });
    expect(queued[0]!.recipients.map((r) => r.address)).toEqual(['carol@remote.test']);
    const queuedRaw = await server.server.store.readOutboundRaw(queued[0]!.id);
    expect(queuedRaw.toString('latin1').endsWith(raw.toString('latin1'))).toBe(true);
  });

  it('465: implicit TLS, an alias as sender (smtplib)', async () => {
    const result = await smtplib({
      implicit: true,
      from: 'ally@example.test',
      to: ['dave@remote.test'],
      message: message('Ally <ally@example.test>', 'dave@remote.test', 'via 465'),
    });
    expect(result).toMatchObject({ refused: {} });
    expect(result.features.auth!.trim()).toBe('PLAIN LOGIN');
    expect(await queuedTo('dave@remote.test')).toHaveLength(1);
  });

  it('presents the server certificate, not the built-in one of smtp-server, on 465 and after STARTTLS', async () => {
    const implicit = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const socket = tls.connect(
        { host: '127.0.0.1', port: submissionsPort, rejectUnauthorized: false },
        () => resolve(socket),
      );
      socket.once('error', reject);
    });
    expect(implicit.getPeerCertificate().subject.CN).toBe('localhost');
    implicit.destroy();
    const client = await session();
    expect((client.line.socket as tls.TLSSocket).getPeerCertificate().subject.CN).toBe('localhost');
    client.close();
  });

  it('refuses a wrong password with 535 5.7.8, and AUTH before TLS with 502/538', async () => {
    const result = await smtplib({
      implicit: true,
      password: 'wrong',
      from: 'alice@example.test',
      to: ['x@remote.test'],
      message: message('alice@example.test', 'x@remote.test', 'no'),
    });
    expect(result).toMatchObject({ error: 'auth', code: 535 });
    expect(result.text).toMatch(/^5\.7\.8 /);
    const { client } = await SmtpLineClient.connect(submissionPort);
    const ehlo = await client.command('EHLO client.test');
    expect(ehlo).not.toMatch(/AUTH/);
    expect(await client.command(`AUTH PLAIN ${plain('alice@example.test', 'secret')}`)).toMatch(/^5\d\d /);
    // No transaction without a login.
    expect(await client.command('MAIL FROM:<alice@example.test>')).toMatch(/^530 5\.7\.0 /);
    client.close();
  });

  it('accepts an app password', async () => {
    const secret = 'abcd efgh ijkl mnop';
    await server.server.store.createAppPassword(alice, 'phone', await hashPassword('abcdefghijklmnop'));
    const result = await smtplib({
      implicit: true,
      password: secret,
      from: 'alice@example.test',
      to: ['erin@remote.test'],
      message: message('alice@example.test', 'erin@remote.test', 'app password'),
    });
    expect(result).toMatchObject({ refused: {} });
  });

  it('refuses senders the user does not own: envelope 553 5.7.1 (catch-all included), From header 553 5.7.1', async () => {
    const client = await session(['alice@example.test', 'secret']);
    expect(await client.command('MAIL FROM:<bob@example.test>')).toMatch(/^553 5\.7\.1 .*not owned/);
    expect(await client.command('MAIL FROM:<anyone@family.test>')).toMatch(/^553 5\.7\.1 /);
    expect(await client.command('MAIL FROM:<alice@example.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<frank@remote.test>')).toMatch(/^250 /);
    const [reply] = await client.data(message('Bob <bob@example.test>', 'frank@remote.test', 'forged'));
    expect(reply).toMatch(/^553 5\.7\.1 From: <bob@example\.test> is not an address/);
    expect(await queuedTo('frank@remote.test')).toHaveLength(0);
    client.close();
  });

  it('refuses unknown local users at RCPT, too many recipients with 452 4.5.3, and oversize with 552', async () => {
    const client = await session(['alice@example.test', 'secret']);
    expect(await client.command('MAIL FROM:<alice@example.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<nobody@example.test>')).toMatch(/^550 5\.1\.1 /);
    for (const name of ['g1', 'g2', 'g3']) {
      expect(await client.command(`RCPT TO:<${name}@remote.test>`)).toMatch(/^250 /);
    }
    expect(await client.command('RCPT TO:<g4@remote.test>')).toMatch(/^452 4\.5\.3 /);
    expect(await client.command('RSET')).toMatch(/^250 /);
    expect(await client.command(`MAIL FROM:<alice@example.test> SIZE=${SIZE_LIMIT + 1}`)).toMatch(/^552 /);
    expect(await client.command('MAIL FROM:<alice@example.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<big@remote.test>')).toMatch(/^250 /);
    const [reply] = await client.data(
      message(
        'alice@example.test',
        'big@remote.test',
        'big',
        'x'.repeat(70) + '\r\n'.repeat(1) + 'y'.repeat(SIZE_LIMIT),
      ),
    );
    expect(reply).toMatch(/^552 /);
    client.close();
  });

  it('obeys connection rules scoped to the submission protocol, and their login lockouts', async () => {
    const store = server.server.store;
    const deny = await store.createRule({ kind: 'deny', cidrs: ['127.0.0.0/8'], protocols: ['submission'] });
    await server.server.rules!.reload();
    try {
      const { greeting } = await SmtpLineClient.connect(submissionPort);
      expect(greeting).toMatch(/^554 /);
      // Other protocols are not concerned.
      const smtp = await SmtpLineClient.connect(server.smtpPort);
      expect(smtp.greeting).toMatch(/^220 /);
      smtp.client.close();
    } finally {
      await store.deleteRule(deny.id);
    }
    const lockout = await store.createRule({
      kind: 'lockout',
      limit: 2,
      windowSeconds: 600,
      protocols: ['submission'],
    });
    await server.server.rules!.reload();
    try {
      const client = await session();
      for (let i = 0; i < 2; i += 1) {
        expect(await client.command(`AUTH PLAIN ${plain('bob@example.test', 'wrong')}`)).toMatch(
          /^535 5\.7\.8 /,
        );
      }
      // Locked out: the right password is refused like a wrong one.
      expect(await client.command(`AUTH PLAIN ${plain('bob@example.test', 'secret')}`)).toMatch(
        /^535 5\.7\.8 /,
      );
      client.close();
    } finally {
      await store.deleteRule(lockout.id);
      await server.server.rules!.reload();
    }
  });

  it('is listed in the admin sessions with its user and its bytes on the wire, and forgotten at close', async () => {
    const client = await session(['bob@example.test', 'secret']);
    const port = client.line.socket.localPort!;
    const listed = server.server.sessions.list().find((entry) => entry.remotePort === port);
    expect(listed).toMatchObject({ protocol: 'submission', secure: true, user: 'bob@example.test' });
    // Counted at the socket (TLS included), as for SMTP-in and LMTP.
    expect(listed!.bytesIn).toBeGreaterThan(100);
    expect(listed!.bytesOut).toBeGreaterThan(100);
    const closed = new Promise<void>((resolve) => client.line.socket.once('close', () => resolve()));
    expect(await client.command('QUIT')).toMatch(/^221 /);
    await closed;
    await vi.waitFor(() => {
      expect(server.server.sessions.list().some((entry) => entry.remotePort === port)).toBe(false);
    });
  });

  it('saves a copy to Sent only for an account that asked for it (off by default), \\Seen, as sent', async () => {
    const imap = await LineClient.connect(server.imapsPort, true);
    await imap.readUntil(/^\* OK/);
    expect(await imap.command('l', 'LOGIN bob@example.test secret')).toMatch(/^l OK/m);
    const client = await session(['bob@example.test', 'secret']);
    const send = async (subject: string) => {
      expect(await client.command('MAIL FROM:<bob@example.test>')).toMatch(/^250 /);
      expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
      expect(await client.command('RCPT TO:<someone@remote.test>')).toMatch(/^250 /);
      const raw = message('bob@example.test', 'alice@example.test', subject);
      const [reply] = await client.data(raw);
      expect(reply).toMatch(/^250 /);
      return raw;
    };
    await send('not kept');
    expect(await imap.command('s1', 'STATUS Sent (MESSAGES)')).toMatch(/MESSAGES 0\)/);
    // Turned on (as the panel and `mallard user save-sent` do): the logged-in session follows.
    await server.server.store.updateUser(bob, { saveSentCopy: true });
    const kept = await send('kept in Sent');
    expect(await imap.command('s2', 'STATUS Sent (MESSAGES)')).toMatch(/MESSAGES 1\)/);
    expect(await imap.command('e', 'EXAMINE Sent')).toMatch(/^e OK/m);
    const fetched = await imap.command('f', 'FETCH 1 (FLAGS BODY.PEEK[])');
    expect(fetched).toMatch(/FLAGS \(\\Seen( \\Recent)?\)/);
    expect(fetched).toContain(`BODY[] {${kept.length}}\r\n${kept.toString('latin1')}`);
    client.close();
    imap.close();
    await server.server.store.updateUser(bob, { saveSentCopy: false });
  });

  it('reports a local delivery to the sender when asked (NOTIFY=SUCCESS, RFC 3464), with ENVID and ORCPT', async () => {
    const before = await inboxCount(server, bob);
    const client = await session(['bob@example.test', 'secret']);
    expect(await client.command('MAIL FROM:<bob@example.test> ENVID=BOB-1')).toMatch(/^250 /);
    expect(
      await client.command(
        'RCPT TO:<alice@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Alice@example.test',
      ),
    ).toMatch(/^250 /);
    // The same user by an alias, without NOTIFY: stored once, and no success report by default.
    expect(await client.command('RCPT TO:<ally@example.test>')).toMatch(/^250 /);
    expect(await client.data(message('bob@example.test', 'alice@example.test', 'tell me'))).toEqual([
      expect.stringMatching(/^250 /),
    ]);
    // Without SUCCESS in NOTIFY: no report.
    expect(await client.command('MAIL FROM:<bob@example.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test> NOTIFY=FAILURE,DELAY')).toMatch(/^250 /);
    expect(await client.data(message('bob@example.test', 'alice@example.test', 'quiet'))).toEqual([
      expect.stringMatching(/^250 /),
    ]);
    client.close();

    expect(await inboxCount(server, bob)).toBe(before + 1);
    const report = (await newestInInbox(server, bob)).toString('latin1');
    expect(report).toMatch(/^Return-Path: <>\r\n/);
    expect(report).toMatch(/Subject: Successful Mail Delivery Report/);
    expect(report).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/);
    expect(report).toMatch(/Original-Envelope-Id: BOB-1\r\n/);
    expect(report).toMatch(
      /Original-Recipient: rfc822; Alice@example\.test\r\nFinal-Recipient: rfc822; alice@example\.test\r\nAction: delivered\r\nStatus: 2\.0\.0/,
    );
    expect(report).not.toMatch(/Final-Recipient: rfc822; ally@/);
    expect(report).toMatch(/Subject: tell me/);
  });

  it('limits messages per user per hour with 451 4.7.1', async () => {
    const limited = await startTestServer({
      MALLARD_SUBMISSION_HOST: '127.0.0.1',
      MALLARD_SUBMISSION_MAX_MESSAGES_PER_HOUR: '2',
      MALLARD_DKIM_ENABLED: 'false',
    });
    try {
      await limited.addUser('hank@example.test', 'secret');
      const port = limited.server.submission.listeners.find((l) => !l.implicitTls)!.port;
      const { client } = await SmtpLineClient.connect(port);
      await client.command('EHLO client.test');
      // Loopback without TLS may log in here (the default).
      expect(await client.command(`AUTH PLAIN ${plain('hank@example.test', 'secret')}`)).toMatch(/^235 /);
      for (let i = 0; i < 2; i += 1) {
        expect(await client.command('MAIL FROM:<hank@example.test>')).toMatch(/^250 /);
        expect(await client.command('RCPT TO:<hank@example.test>')).toMatch(/^250 /);
        expect((await client.data(message('hank@example.test', 'hank@example.test', `n${i}`)))[0]).toMatch(
          /^250 /,
        );
      }
      expect(await client.command('MAIL FROM:<hank@example.test>')).toMatch(/^451 4\.7\.1 Sending limit/);
      client.close();
    } finally {
      await limited.stop();
    }
  });
});
