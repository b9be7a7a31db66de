/**
 * SMTP as an MX over real TCP against a real server: recipients checked at RCPT (unknown user,
 * relaying denied, over quota), SIZE advertised and enforced, over quota and temporary failures
 * after DATA, the trace header fields and byte-exact storage, STARTTLS with the provider's certificate,
 * no AUTH; with raw transcripts, Python's smtplib and Debian's swaks.
 */
import type tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { StoreError } from '../../server/store/errors.ts';
import { generateSelfSigned } from '../../server/tls/self-signed.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  fetchOverImap,
  inboxCount,
  newestInInbox,
  python,
  retrOverPop3,
  SmtpLineClient,
  splitStored,
  swaks,
  trickyMessage,
} from './clients.ts';

/** SMTP-in's sender authentication result and spam verdict, between Delivered-To and Received. */
const AUTH_RESULTS = String.raw`Authentication-Results: localhost;\r\n(?:[ \t][^\r\n]*\r\n)+X-Spam-Flag: NO\r\nX-Spam-Score: -?\d+\.\d\r\nX-Spam-Status: No, [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*`;
const LIMIT = 100_000;
let server: TestServer;
let alice: string;
let bob: string;

beforeAll(async () => {
  server = await startTestServer({ MALLARD_LIMITS_MAX_MESSAGE_SIZE: String(LIMIT) });
  alice = await server.addUser('alice@example.test', 'secret');
  bob = await server.addUser('bob@example.test', 'secret');
  await server.server.store.addAddress(bob, 'robert@alias.test');
  await server.server.store.addAddress(bob, '*@catchall.test');
});
afterAll(() => server.stop());
afterEach(() => {
  vi.restoreAllMocks();
});

function message(subject: string, body = 'Hello.'): Buffer {
  return Buffer.from(
    `From: sender@remote.test\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n\r\n${body}\r\n`,
  );
}

async function session(): Promise<SmtpLineClient> {
  const { client, greeting } = await SmtpLineClient.connect(server.smtpPort);
  expect(greeting).toBe('220 localhost ESMTP Mallard\r\n');
  expect(await client.command('EHLO client.test')).toMatch(/^250 /m);
  return client;
}

const smtplibScript = `
import json, smtplib, ssl, sys
a = json.load(sys.stdin)
c = smtplib.SMTP('127.0.0.1', a['port'], local_hostname='client.test')
if a.get('starttls'):
    c.starttls(context=ssl._create_unverified_context())
try:
    refused = c.sendmail(a['from'], a['to'], a['message'].encode('latin-1'))
    result = {'refused': {k: [v[0], v[1].decode()] for k, v in refused.items()}}
except smtplib.SMTPRecipientsRefused as e:
    result = {'error': 'recipients', 'refused': {k: [v[0], v[1].decode()] for k, v in e.recipients.items()}}
except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
    result = {'error': type(e).__name__, 'code': e.smtp_code, 'text': e.smtp_error.decode()}
result['features'] = sorted(c.esmtp_features.keys())
c.quit()
print(json.dumps(result))
`;

interface SmtplibResult {
  refused?: Record<string, [number, string]>;
  error?: string;
  code?: number;
  text?: string;
  features: string[];
}

function smtplib(to: string[], raw: Buffer, starttls = false): Promise<SmtplibResult> {
  return python<SmtplibResult>(smtplibScript, {
    port: server.smtpPort,
    from: 'sender@remote.test',
    to,
    message: raw.toString('latin1'),
    starttls,
  });
}

describe('SMTP session', () => {
  it('advertises SIZE, STARTTLS, 8BITMIME, SMTPUTF8, PIPELINING, ENHANCEDSTATUSCODES and no AUTH', async () => {
    const { client } = await SmtpLineClient.connect(server.smtpPort);
    const ehlo = await client.command('EHLO client.test');
    expect(ehlo).toMatch(/^250-localhost Hello \[127\.0\.0\.1\]\r$/m);
    for (const extension of [
      'PIPELINING',
      '8BITMIME',
      'SMTPUTF8',
      'ENHANCEDSTATUSCODES',
      'STARTTLS',
      `SIZE ${LIMIT}`,
    ]) {
      expect(ehlo).toMatch(new RegExp(`^250[- ]${extension}\r$`, 'm'));
    }
    expect(ehlo).not.toMatch(/AUTH/);
    expect(await client.command('AUTH PLAIN AGFsaWNlAHNlY3JldA==')).toMatch(/^5\d\d /);
    expect(await client.command('QUIT')).toMatch(/^221 /);
    client.close();
  });

  it('checks recipients at RCPT: unknown user 5.1.1, other domains 5.7.1 (no relaying)', async () => {
    const client = await session();
    expect(await client.command('MAIL FROM:<>')).toMatch(/^250 2\.1\.0 /);
    expect(await client.command('RCPT TO:<nobody@example.test>')).toBe(
      '550 5.1.1 <nobody@example.test>: User unknown\r\n',
    );
    expect(await client.command('RCPT TO:<someone@elsewhere.test>')).toBe(
      '550 5.7.1 <someone@elsewhere.test>: Relay access denied\r\n',
    );
    // A domain served only through an alias is still ours.
    expect(await client.command('RCPT TO:<nobody@alias.test>')).toBe(
      '550 5.1.1 <nobody@alias.test>: User unknown\r\n',
    );
    for (const accepted of [
      'alice@example.test',
      'ALICE@Example.Test',
      'alice+news@example.test',
      'robert@alias.test',
      'any@catchall.test',
    ]) {
      expect(await client.command(`RCPT TO:<${accepted}>`)).toMatch(/^250 2\.1\.5 /);
    }
    expect(await client.command('QUIT')).toMatch(/^221 /);
    client.close();
  });

  it('refuses a disabled user with 550 5.2.1', async () => {
    const off = await server.addUser('off@example.test', 'secret');
    await server.server.store.updateUser(off, { disabled: true });
    const client = await session();
    await client.command('MAIL FROM:<sender@remote.test>');
    expect(await client.command('RCPT TO:<off@example.test>')).toBe(
      '550 5.2.1 <off@example.test>: Mailbox disabled\r\n',
    );
    client.close();
  });

  it('takes a UTF-8 address with SMTPUTF8 and names it in the Received header', async () => {
    await server.server.store.addAddress(alice, 'jörg@example.test');
    const raw = Buffer.from('Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\r\n\r\nGrüße\r\n', 'utf8');
    const client = await session();
    expect(await client.command('MAIL FROM:<sender@remote.test> SMTPUTF8 BODY=8BITMIME')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<jörg@example.test>')).toMatch(/^250 /);
    expect(await client.data(raw)).toEqual([expect.stringMatching(/^250 /)]);
    client.close();
    const { header, rest } = splitStored(await newestInInbox(server, alice), raw);
    expect(rest.equals(raw)).toBe(true);
    expect(header).toContain('\tfor <jörg@example.test>; ');
  });

  it('answers 451 4.3.0 at RCPT when the store is unavailable', async () => {
    vi.spyOn(server.server.store, 'resolveRecipient').mockRejectedValue(
      new StoreError('UNAVAILABLE', 'down'),
    );
    const client = await session();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(
      /^451 4\.3\.0 <alice@example\.test>: Temporary local problem, please try again later \(ref [0-9a-f]+\)\r\n$/,
    );
    client.close();
  });
});

describe('SMTP delivery', () => {
  it('adds the trace header fields and stores exactly them plus the bytes received', async () => {
    const before = server.server.smtp.deliveredCount;
    const raw = trickyMessage('exact over smtp');
    const client = await session();
    expect(await client.command('MAIL FROM:<sender@remote.test> BODY=8BITMIME')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
    const [reply] = await client.data(raw);
    expect(reply).toMatch(/^250 2\.0\.0 Ok: delivered as (\S+)\r\n$/);
    const id = /delivered as (\S+)/.exec(reply!)![1]!;
    client.close();
    expect(server.server.smtp.deliveredCount).toBe(before + 1);

    const stored = await newestInInbox(server, alice);
    const { header, rest } = splitStored(stored, raw);
    expect(rest.equals(raw)).toBe(true);
    expect(header).toMatch(
      new RegExp(
        '^Return-Path: <sender@remote\\.test>\r\nDelivered-To: alice@example\\.test\r\n' +
          AUTH_RESULTS +
          'Received: from client\\.test \\(\\[127\\.0\\.0\\.1\\]\\)\r\n' +
          `\tby localhost \\(Mallard\\) with ESMTP id ${id}\r\n` +
          '\tfor <alice@example\\.test>; \\w{3}, \\d{1,2} \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d [+-]\\d{4}\r\n$',
      ),
    );
    // Read back over IMAP and POP3, byte for byte.
    const inbox = (await server.server.store.getMailbox(alice, 'INBOX'))!;
    const messages = await server.server.store.listMessages(inbox.id);
    const uid = messages.at(-1)!.uid;
    expect((await fetchOverImap(server.imapPort, 'alice@example.test', 'secret', uid)).equals(stored)).toBe(
      true,
    );
    expect(
      (await retrOverPop3(server.pop3Port, 'alice@example.test', 'secret', messages.length)).equals(stored),
    ).toBe(true);
  });

  it('gives mixed results per recipient with smtplib: unknown, relaying, over quota (SIZE) refused; the rest delivered', async () => {
    const over = await server.addUser('over@example.test', 'secret', 1000);
    const raw = message('mixed', 'm'.repeat(2000));
    const result = await smtplib(
      [
        'alice@example.test',
        'ghost@example.test',
        'over@example.test',
        'x@elsewhere.test',
        'bob@example.test',
      ],
      raw,
    );
    expect(result.error).toBeUndefined();
    expect(result.refused).toEqual({
      'ghost@example.test': [550, '5.1.1 <ghost@example.test>: User unknown'],
      'over@example.test': [552, '5.2.2 <over@example.test>: Mailbox full'],
      'x@elsewhere.test': [550, '5.7.1 <x@elsewhere.test>: Relay access denied'],
    });
    expect(result.features).toEqual(expect.arrayContaining(['size', 'starttls', '8bitmime', 'smtputf8']));
    expect(await inboxCount(server, over)).toBe(0);
    for (const user of [alice, bob]) {
      const stored = await newestInInbox(server, user);
      const { header, rest } = splitStored(stored, raw);
      expect(rest.equals(raw)).toBe(true);
      // Each recipient's copy names that recipient only.
      const address = user === alice ? 'alice@example\\.test' : 'bob@example\\.test';
      expect(header).toMatch(
        new RegExp(
          `^Return-Path: <[^>]+>\r\nDelivered-To: ${address}\r\n` +
            AUTH_RESULTS +
            'Received: from client\\.test \\(\\[127\\.0\\.0\\.1\\]\\)\r\n\tby localhost \\(Mallard\\) with ESMTP id \\S+\r\n' +
            `\tfor <${address}>; .+\r\n$`,
        ),
      );
    }
  });

  it('answers 552 5.2.2 after DATA when the message takes the only recipient over quota', async () => {
    const tight = await server.addUser('tight@example.test', 'secret', 300);
    const client = await session();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<tight@example.test>')).toMatch(/^250 /);
    expect(await client.data(message('too much', 't'.repeat(500)))).toEqual([
      '552 5.2.2 <tight@example.test>: Mailbox full\r\n',
    ]);
    expect(await inboxCount(server, tight)).toBe(0);
    // Over quota at RCPT too, once the client declares the size.
    expect(await client.command('MAIL FROM:<sender@remote.test> SIZE=600')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<tight@example.test>')).toBe(
      '552 5.2.2 <tight@example.test>: Mailbox full\r\n',
    );
    client.close();
  });

  it('accepts when the others got the message and one recipient crossed its quota (no bounce to send)', async () => {
    await server.addUser('edge@example.test', 'secret', 300);
    const before = await inboxCount(server, alice);
    const client = await session();
    await client.command('MAIL FROM:<sender@remote.test>');
    await client.command('RCPT TO:<alice@example.test>');
    await client.command('RCPT TO:<edge@example.test>');
    expect(await client.data(message('edge', 'e'.repeat(500)))).toEqual([
      expect.stringMatching(/^250 2\.0\.0 /),
    ]);
    expect(await inboxCount(server, alice)).toBe(before + 1);
    client.close();
  });

  it('answers 451 4.3.0 after DATA when a delivery fails temporarily (the sender retries)', async () => {
    const store = server.server.store;
    const deliver = store.deliver.bind(store);
    vi.spyOn(store, 'deliver').mockImplementation((recipient, raw, options) =>
      recipient === 'bob@example.test'
        ? Promise.reject(new StoreError('UNAVAILABLE', 'database busy'))
        : deliver(recipient, raw, options),
    );
    const client = await session();
    await client.command('MAIL FROM:<sender@remote.test>');
    await client.command('RCPT TO:<alice@example.test>');
    await client.command('RCPT TO:<bob@example.test>');
    expect(await client.data(message('temporary'))).toEqual([
      expect.stringMatching(
        /^451 4\.3\.0 Temporary local problem, please try again later \(ref [0-9a-f]+\)\r\n$/,
      ),
    ]);
    // An unexpected error is temporary too, and its details stay in the log.
    vi.spyOn(store, 'deliver').mockRejectedValue(new Error('disk on fire'));
    await client.command('MAIL FROM:<sender@remote.test>');
    await client.command('RCPT TO:<alice@example.test>');
    const [reply] = await client.data(message('unexpected'));
    expect(reply).toMatch(/^451 4\.3\.0 /);
    expect(reply).not.toMatch(/fire/);
    client.close();
  });

  it('stores one copy for several addresses of one user', async () => {
    const before = await inboxCount(server, bob);
    const client = await session();
    await client.command('MAIL FROM:<sender@remote.test>');
    for (const rcpt of ['bob@example.test', 'robert@alias.test', 'whoever@catchall.test']) {
      expect(await client.command(`RCPT TO:<${rcpt}>`)).toMatch(/^250 /);
    }
    expect(await client.data(message('one copy'))).toEqual([expect.stringMatching(/^250 /)]);
    expect(await inboxCount(server, bob)).toBe(before + 1);
    client.close();
  });
});

describe('SMTP size limit', () => {
  it('refuses MAIL FROM with SIZE over the limit: 552 5.3.4', async () => {
    const client = await session();
    expect(await client.command(`MAIL FROM:<sender@remote.test> SIZE=${LIMIT + 1}`)).toMatch(/^552 5\.3\.4 /);
    expect(await client.command(`MAIL FROM:<sender@remote.test> SIZE=${LIMIT}`)).toMatch(/^250 /);
    client.close();
  });

  it('refuses a message over the limit after DATA: 552 5.3.4, nothing stored', async () => {
    const before = await inboxCount(server, alice);
    const client = await session();
    await client.command('MAIL FROM:<sender@remote.test>');
    await client.command('RCPT TO:<alice@example.test>');
    expect(await client.data(message('big', `${'b'.repeat(998)}\r\n`.repeat(LIMIT / 1000 + 5)))).toEqual([
      expect.stringMatching(/^552 5\.3\.4 /),
    ]);
    expect(await inboxCount(server, alice)).toBe(before);
    expect(await client.command('NOOP')).toMatch(/^250 /);
    client.close();
  });

  it('smtplib sees the declared size refused', async () => {
    const result = await smtplib(['alice@example.test'], message('big', 'q'.repeat(LIMIT)));
    expect(result).toMatchObject({ error: 'SMTPSenderRefused', code: 552 });
    expect(result.text).toMatch(/^5\.3\.4 /);
  });
});

describe('SMTP clients and TLS', () => {
  it('swaks delivers, with the unknown and the foreign recipient refused', async () => {
    const before = await inboxCount(server, alice);
    const { output } = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(server.smtpPort),
      '--from',
      'sender@remote.test',
      '--to',
      'alice@example.test,ghost@example.test,someone@elsewhere.test',
    ]);
    expect(output).toMatch(/^<- {2}220 localhost ESMTP Mallard$/m);
    expect(output).toMatch(/^<\*\* 550 5\.1\.1 <ghost@example\.test>: User unknown$/m);
    expect(output).toMatch(/^<\*\* 550 5\.7\.1 <someone@elsewhere\.test>: Relay access denied$/m);
    expect(output).toMatch(/^<- {2}250 2\.0\.0 Ok: delivered as \S+$/m);
    expect(await inboxCount(server, alice)).toBe(before + 1);
  });

  it('swaks sees an over-quota recipient refused at RCPT', async () => {
    const full = await server.addUser('full@example.test', 'secret', 100);
    await server.server.store.deliver('full@example.test', message('x')).catch(() => undefined);
    await server.server.store.updateUser(full, { quotaBytes: 1 });
    const { code, output } = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(server.smtpPort),
      '--from',
      'sender@remote.test',
      '--to',
      'full@example.test',
    ]);
    expect(output).toMatch(/^<\*\* 552 5\.2\.2 <full@example\.test>: Mailbox full$/m);
    expect(code).not.toBe(0);
  });

  it('offers STARTTLS; the session after it is ESMTPS in the Received header', async () => {
    const raw = message('over tls');
    const client = await session();
    expect(await client.command('STARTTLS')).toMatch(/^220 /);
    await client.startTls();
    const ehlo = await client.command('EHLO client.test');
    expect(ehlo).not.toMatch(/STARTTLS/);
    expect(ehlo).not.toMatch(/AUTH/);
    await client.command('MAIL FROM:<sender@remote.test>');
    await client.command('RCPT TO:<alice@example.test>');
    expect(await client.data(raw)).toEqual([expect.stringMatching(/^250 /)]);
    client.close();
    const { header, rest } = splitStored(await newestInInbox(server, alice), raw);
    expect(rest.equals(raw)).toBe(true);
    expect(header).toMatch(
      /^Return-Path: <sender@remote\.test>\r\nDelivered-To: alice@example\.test\r\nAuthentication-Results: localhost;\r\n(?:[ \t][^\r\n]*\r\n)+X-Spam-Flag: NO\r\nX-Spam-Score: -?\d+\.\d\r\nX-Spam-Status: No, [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\t\(using TLSv1\.[23] with cipher \S+\)\r\n\tby localhost \(Mallard\) with ESMTPS id /,
    );
  });

  it('smtplib delivers over STARTTLS', async () => {
    const raw = message('smtplib tls');
    const result = await smtplib(['alice@example.test'], raw, true);
    expect(result).toMatchObject({ refused: {} });
    const { header, rest } = splitStored(await newestInInbox(server, alice), raw);
    expect(rest.equals(raw)).toBe(true);
    expect(header).toMatch(/ with ESMTPS id /);
  });

  it('presents the TLS provider certificate of the moment, without a restart', async () => {
    const cn = async () => {
      const client = await session();
      expect(await client.command('STARTTLS')).toMatch(/^220 /);
      await client.startTls();
      const socket = client.line.socket as tls.TLSSocket;
      const name = socket.getPeerCertificate().subject.CN;
      client.close();
      return name;
    };
    expect(await cn()).toBe('localhost');
    server.server.tls.replace(generateSelfSigned('renewed.example.test'));
    expect(await cn()).toBe('renewed.example.test');
  });
});
