/**
 * Sending to other domains with real, independent parts: dnsmasq on loopback serving the test
 * zones (MX records pointing at 127.0.0.x), Debian's Postfix on 127.0.0.2 as the receiving MTA,
 * and Python's dkimpy (Debian's python3-dkim) checking our DKIM signature against the key the
 * test DNS publishes. Covers direct MX delivery with STARTTLS, MX preference and the implicit MX
 * (A record), a temporary refusal then success, a permanent refusal and an unknown domain with an
 * RFC 3464 report in the sender's INBOX, and the relay setting.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DkimKeys } from '../../server/outbound/dkim.ts';
import type { OutboundMessage } from '../../server/store/outbound.ts';
import { startDnsmasq, type Dnsmasq, type DnsRecords } from '../helpers/dnsmasq.ts';
import { startPostfix, type Postfix } from '../helpers/postfix.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { fetchOverImap, inboxCount, newestInInbox, SmtpLineClient } from '../delivery/clients.ts';

const MX_HOST = '127.0.0.2';
/** Nothing listens there: an MX that does not answer. */
const DEAD_HOST = '127.0.0.3';
const TARPIT_HOST = '127.0.0.4';
/** A host that takes the envelope and drops the connection in the middle of DATA. */
const DROPPER_HOST = '127.0.0.6';
/** Postfix as a relay that wants a SASL login (Dovecot's auth service behind it). */
const SASL_RELAY_HOST = '127.0.0.7';

let postfix: Postfix;
let dnsmasq: Dnsmasq;
let server: TestServer;
let alice: string;

function zones(txt: DnsRecords['txt'] = []): DnsRecords {
  return {
    zones: [
      'direct.test',
      'pref.test',
      'fallback.test',
      'nowhere.test',
      'example.test',
      'tarpit.test',
      'dropper.test',
    ],
    mx: [
      { domain: 'direct.test', host: 'mx.direct.test', preference: 10 },
      { domain: 'pref.test', host: 'dead.pref.test', preference: 5 },
      { domain: 'pref.test', host: 'live.pref.test', preference: 20 },
    ],
    a: [
      { name: 'mx.direct.test', address: MX_HOST },
      { name: 'dead.pref.test', address: DEAD_HOST },
      { name: 'live.pref.test', address: MX_HOST },
      // No MX: the domain's own address is its mail host (RFC 5321 5.1).
      { name: 'fallback.test', address: MX_HOST },
      // A host that accepts connections and then says nothing.
      { name: 'tarpit.test', address: TARPIT_HOST },
      { name: 'dropper.test', address: DROPPER_HOST },
    ],
    txt,
  };
}

beforeAll(async () => {
  postfix = await startPostfix({
    host: MX_HOST,
    mailboxes: [
      'rcpt@direct.test',
      'later@direct.test',
      'rcpt@pref.test',
      'rcpt@fallback.test',
      'rcpt@relayed.test',
    ],
  });
  dnsmasq = await startDnsmasq(zones());
  server = await startTestServer({
    MALLARD_DNS_SERVERS: dnsmasq.server,
    MALLARD_OUTBOUND_MX_PORT: String(postfix.port),
    MALLARD_OUTBOUND_RETRY_BASE: '3600',
  });
  alice = await server.addUser('alice@example.test', 'secret');
  // Publish the DKIM key Mallard will sign with, as the README tells an admin to.
  const record = new DkimKeys(server.config.data_dir, server.config.dkim.selector).dnsRecord('example.test');
  const port = dnsmasq.port;
  await dnsmasq.stop();
  dnsmasq = await startDnsmasq(zones([{ name: record.name, value: record.value }]), port);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await dnsmasq?.stop();
  await postfix?.stop();
});

function message(to: string, subject: string): Buffer {
  return Buffer.from(
    `From: Alice <alice@example.test>\r\nTo: ${to}\r\nSubject: ${subject}\r\n` +
      `Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.test>\r\n\r\n` +
      `Hello from Mallard.\r\nA second line.\r\n`,
  );
}

/**
 * An SMTP peer that accepts the envelope, says 354 to DATA and cuts the connection once the first
 * bytes of the message arrive: a destination that dies mid-transfer. Counts its connections.
 */
async function startDroppingPeer(host: string, port: number) {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    let inData = false;
    let buffered = '';
    socket.on('error', () => undefined);
    socket.write('220 dropper.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      if (inData) return void socket.destroy();
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-dropper.test\r\n250 8BITMIME\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
          if (buffered.length > 0) return void socket.destroy();
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 2.0.0 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Submits over 587 (loopback: AUTH without TLS is allowed by default); returns the queue id. */
async function submit(target: TestServer, to: string[], raw: Buffer): Promise<string> {
  const port = target.server.submission.listeners.find((l) => !l.implicitTls)!.port;
  const { client } = await SmtpLineClient.connect(port);
  try {
    await client.command('EHLO client.test');
    const token = Buffer.from('\0alice@example.test\0secret').toString('base64');
    expect(await client.command(`AUTH PLAIN ${token}`)).toMatch(/^235 /);
    expect(await client.command('MAIL FROM:<alice@example.test>')).toMatch(/^250 /);
    for (const address of to) expect(await client.command(`RCPT TO:<${address}>`)).toMatch(/^250 /);
    const [reply] = await client.data(raw);
    const queued = /queued as (\S+)/.exec(reply ?? '');
    expect(queued, reply).not.toBeNull();
    return queued![1]!;
  } finally {
    client.close();
  }
}

/** Polls a condition (the queue lives in the store; Postfix delivers after its 250). */
async function until<T>(
  probe: () => Promise<T | null> | T | null,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function recipientSettled(target: TestServer, id: string, address: string, state: string) {
  return until(async () => {
    const queued: OutboundMessage | null = await target.server.store.getOutbound(id);
    const recipient = queued?.recipients.find((r) => r.address === address);
    return recipient && recipient.state === state ? recipient : null;
  }, `${address} to be ${state}`);
}

async function deliveredAt(address: string, count: number): Promise<Buffer> {
  return until(() => {
    const all = postfix.delivered(address);
    return all.length >= count ? all[count - 1]! : null;
  }, `Postfix to store a message for ${address}`);
}

/** dkimpy's verdict, with the key looked up in the test DNS (dnsmasq), not the system's. */
async function dkimpyVerifies(raw: Buffer): Promise<string> {
  const script = `
import sys, dkim, dns.resolver
port = int(sys.argv[1])
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = ['127.0.0.1']
resolver.port = port
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    answer = resolver.resolve(name.rstrip('.'), 'TXT')
    return b''.join(b''.join(r.strings) for r in answer)
message = sys.stdin.buffer.read()
print('pass' if dkim.verify(message, dnsfunc=dnsfunc) else 'fail')
`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      '/usr/bin/python3',
      ['-c', script, String(dnsmasq.port)],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim()),
    );
    child.stdin!.end(raw);
  });
}

/** dkimpy's verdict on every DKIM-Signature of the message, in order ("pass pass"). */
async function dkimpyVerifiesEach(raw: Buffer): Promise<string> {
  const script = `
import sys, dkim, dns.resolver
port = int(sys.argv[1])
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = ['127.0.0.1']
resolver.port = port
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    answer = resolver.resolve(name.rstrip('.'), 'TXT')
    return b''.join(b''.join(r.strings) for r in answer)
message = sys.stdin.buffer.read()
d = dkim.DKIM(message)
count = sum(1 for k, v in d.headers if k.lower() == b'dkim-signature')
print(' '.join('pass' if dkim.DKIM(message).verify(idx=i, dnsfunc=dnsfunc) else 'fail' for i in range(count)))
`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      '/usr/bin/python3',
      ['-c', script, String(dnsmasq.port)],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim()),
    );
    child.stdin!.end(raw);
  });
}

describe('outbound delivery', () => {
  it('delivers to the MX over STARTTLS, DKIM-signed so that dkimpy verifies it', async () => {
    const raw = message('rcpt@direct.test', 'direct mx');
    const id = await submit(server, ['rcpt@direct.test'], raw);
    const recipient = await recipientSettled(server, id, 'rcpt@direct.test', 'delivered');
    expect(recipient.attempts).toBe(1);
    const arrived = await deliveredAt('rcpt@direct.test', 1);
    const text = arrived.toString('latin1');
    expect(text).toMatch(/^Return-Path: <alice@example\.test>/);
    // Postfix notes the TLS it got (smtpd_tls_received_header).
    expect(text).toMatch(/\(using TLSv1\.[23] /);
    expect(text).toMatch(/^DKIM-Signature: .*d=example\.test/m);
    expect(text).toMatch(/c=relaxed\/relaxed/);
    expect(text).toMatch(/a=rsa-sha256/);
    expect(await dkimpyVerifies(Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1'))).toBe('pass');
  });

  it('tries MX hosts in preference order past one that does not answer, and falls back to the A record', async () => {
    const id = await submit(
      server,
      ['rcpt@pref.test', 'rcpt@fallback.test'],
      message('rcpt@pref.test', 'pref'),
    );
    await recipientSettled(server, id, 'rcpt@pref.test', 'delivered');
    await recipientSettled(server, id, 'rcpt@fallback.test', 'delivered');
    expect((await deliveredAt('rcpt@pref.test', 1)).toString()).toMatch(/Subject: pref/);
    expect((await deliveredAt('rcpt@fallback.test', 1)).toString()).toMatch(/Subject: pref/);
  });

  it('defers on a 4xx, keeps the reply, and delivers on the next attempt', async () => {
    await postfix.setAccess(['later@direct.test 451 4.7.1 Greylisted, come back later']);
    const id = await submit(server, ['later@direct.test'], message('later@direct.test', 'greylisted'));
    const deferred = await recipientSettled(server, id, 'later@direct.test', 'deferred');
    expect(deferred.lastError).toMatch(/451 4\.7\.1/);
    // The first retry is an hour away (retry_base); nothing is sent before it.
    expect(deferred.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    expect(postfix.delivered('later@direct.test')).toHaveLength(0);
    await postfix.setAccess([]);
    // Postfix reloads its tables in the background: retry until it accepts.
    await until(async () => {
      await server.server.store.retryOutbound(id);
      server.server.outbound.wake();
      await server.server.outbound.idle();
      const now = await server.server.store.getOutbound(id);
      return now!.recipients[0]!.state === 'delivered' ? true : null;
    }, 'the retry to be delivered');
    expect((await deliveredAt('later@direct.test', 1)).toString()).toMatch(/Subject: greylisted/);
  });

  it('bounces a 5xx and an unknown domain, with an RFC 3464 report and the original headers in the INBOX', async () => {
    const before = await inboxCount(server, alice);
    const id = await submit(
      server,
      ['nobody@direct.test', 'someone@nowhere.test'],
      message('nobody@direct.test', 'doomed'),
    );
    const refused = await recipientSettled(server, id, 'nobody@direct.test', 'bounced');
    expect(refused.lastError).toMatch(/550 5\.1\.1/);
    const unknown = await recipientSettled(server, id, 'someone@nowhere.test', 'bounced');
    expect(unknown.lastError).toMatch(/5\.1\.2/);
    await until(async () => ((await inboxCount(server, alice)) > before ? true : null), 'the report');
    const report = (await newestInInbox(server, alice)).toString('latin1');
    expect(report).toMatch(/^Return-Path: <>\r\n/);
    expect(report).toMatch(/Content-Type: multipart\/report; report-type=delivery-status;/);
    expect(report).toMatch(
      /Final-Recipient: rfc822; nobody@direct\.test\r\nAction: failed\r\nStatus: 5\.1\.1/,
    );
    expect(report).toMatch(
      /Final-Recipient: rfc822; someone@nowhere\.test\r\nAction: failed\r\nStatus: 5\.1\.2/,
    );
    expect(report).toMatch(/Content-Type: text\/rfc822-headers[\s\S]*Subject: doomed/);
  });

  it('logs in to a relay that asks for AUTH (a second Mallard on submission)', async () => {
    // The relay: another Mallard whose submission takes alice's login and delivers to its user.
    const relay = await startTestServer({ MALLARD_DKIM_ENABLED: 'false' });
    const relayUser = await relay.addUser('alice@example.test', 'relay-secret');
    await relay.server.store.addAddress(relayUser, 'rcpt@relay-inbox.test');
    const relayPort = relay.server.submission.listeners.find((l) => !l.implicitTls)!.port;
    const sender = await startTestServer({
      MALLARD_DNS_SERVERS: dnsmasq.server,
      MALLARD_OUTBOUND_RELAY_HOST: '127.0.0.1',
      MALLARD_OUTBOUND_RELAY_PORT: String(relayPort),
      MALLARD_OUTBOUND_RELAY_TLS: 'none',
      MALLARD_OUTBOUND_RELAY_USERNAME: 'alice@example.test',
      MALLARD_OUTBOUND_RELAY_PASSWORD: 'relay-secret',
      MALLARD_DKIM_ENABLED: 'false',
    });
    try {
      await sender.addUser('alice@example.test', 'secret');
      const id = await submit(
        sender,
        ['rcpt@relay-inbox.test'],
        message('rcpt@relay-inbox.test', 'relay auth'),
      );
      await recipientSettled(sender, id, 'rcpt@relay-inbox.test', 'delivered');
      const stored = (await newestInInbox(relay, relayUser)).toString('latin1');
      expect(stored).toMatch(/Subject: relay auth/);
      // The relay saw an authenticated submission from the sending Mallard.
      expect(stored).toMatch(/with ESMTPA id /);
    } finally {
      await sender.stop();
      await relay.stop();
    }
  });

  it('warns a local sender once when a recipient stays deferred past delay_warning_after', async () => {
    const slow = await startTestServer({
      MALLARD_DNS_SERVERS: dnsmasq.server,
      MALLARD_OUTBOUND_MX_PORT: String(postfix.port),
      MALLARD_OUTBOUND_RETRY_BASE: '3600',
      MALLARD_OUTBOUND_DELAY_WARNING_AFTER: '1',
      MALLARD_DKIM_ENABLED: 'false',
    });
    try {
      const user = await slow.addUser('alice@example.test', 'secret');
      await postfix.setAccess(['later@direct.test 451 4.7.1 Greylisted, come back later']);
      const id = await submit(slow, ['later@direct.test'], message('later@direct.test', 'slow'));
      await recipientSettled(slow, id, 'later@direct.test', 'deferred');
      // Attempts after the first second carry the warning (once).
      const warned = await until(async () => {
        await slow.server.store.retryOutbound(id);
        slow.server.outbound.wake();
        await slow.server.outbound.idle();
        const recipient = (await slow.server.store.getOutbound(id))!.recipients[0]!;
        return recipient.warned ? recipient : null;
      }, 'the delay warning');
      expect(warned.state).toBe('deferred');
      const report = (await newestInInbox(slow, user)).toString('latin1');
      expect(report).toMatch(/Subject: Delayed Mail/);
      expect(report).toMatch(/Action: delayed\r\nStatus: 4\.7\.1/);
      expect(await inboxCount(slow, user)).toBe(1);
      // Another failed attempt: no second warning.
      await slow.server.store.retryOutbound(id);
      slow.server.outbound.wake();
      await slow.server.outbound.idle();
      expect((await slow.server.store.getOutbound(id))!.recipients[0]!.attempts).toBeGreaterThan(
        warned.attempts,
      );
      expect(await inboxCount(slow, user)).toBe(1);
    } finally {
      await postfix.setAccess([]);
      await slow.stop();
    }
  });

  it('stops within its grace period while a delivery hangs on a silent host, and keeps the recipient pending', async () => {
    const connected: net.Socket[] = [];
    const tarpit = net.createServer((socket) => connected.push(socket));
    await new Promise<void>((resolve) => tarpit.listen(postfix.port, TARPIT_HOST, resolve));
    const gotConnection = new Promise<void>((resolve) => tarpit.once('connection', () => resolve()));
    const stuck = await startTestServer({
      MALLARD_DNS_SERVERS: dnsmasq.server,
      MALLARD_OUTBOUND_MX_PORT: String(postfix.port),
      MALLARD_DKIM_ENABLED: 'false',
    });
    let stopped = false;
    try {
      await stuck.addUser('alice@example.test', 'secret');
      const id = await submit(stuck, ['someone@tarpit.test'], message('someone@tarpit.test', 'tarpit'));
      await gotConnection;
      const started = Date.now();
      await stuck.server.outbound.stop(1000);
      expect(Date.now() - started).toBeLessThan(5000);
      const queued = await stuck.server.store.getOutbound(id);
      expect(queued!.recipients[0]).toMatchObject({ state: 'queued', attempts: 0 });
      await stuck.stop();
      stopped = true;
    } finally {
      if (!stopped) await stuck.stop();
      for (const socket of connected) socket.destroy();
      await new Promise((resolve) => tarpit.close(resolve));
    }
  });

  it('defers only the recipient whose host drops the connection mid-DATA', async () => {
    const dropper = await startDroppingPeer(DROPPER_HOST, postfix.port);
    try {
      const id = await submit(
        server,
        ['cut@dropper.test', 'rcpt@direct.test'],
        message('cut@dropper.test', 'cut mid data'),
      );
      const cut = await recipientSettled(server, id, 'cut@dropper.test', 'deferred');
      expect(cut.attempts).toBe(1);
      expect(cut.lastError).toMatch(/connection|closed|ECONNRESET|socket/i);
      expect(cut.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
      const other = await recipientSettled(server, id, 'rcpt@direct.test', 'delivered');
      expect(other.attempts).toBe(1);
      // Postfix writes the Maildir file just after its 250.
      const copies = () =>
        postfix
          .delivered('rcpt@direct.test')
          .filter((raw) => /Subject: cut mid data/.test(raw.toString('latin1')));
      await until(() => (copies().length > 0 ? true : null), 'the copy at Postfix');
      expect(copies()).toHaveLength(1);
      expect(dropper.connections).toBe(1);
    } finally {
      await dropper.close();
    }
  });

  it('relays through a Postfix that wants SASL (Dovecot auth): delivered with the right login, deferred with a wrong one', async () => {
    const saslRelay = await startPostfix({
      host: SASL_RELAY_HOST,
      mailboxes: ['rcpt@sasl-relayed.test'],
      sasl: { username: 'home@isp.test', password: 'relay-password' },
    });
    const senderWith = (password: string) =>
      startTestServer({
        MALLARD_DNS_SERVERS: dnsmasq.server,
        MALLARD_OUTBOUND_RELAY_HOST: SASL_RELAY_HOST,
        MALLARD_OUTBOUND_RELAY_PORT: String(saslRelay.port),
        MALLARD_OUTBOUND_RELAY_TLS: 'none',
        MALLARD_OUTBOUND_RELAY_USERNAME: 'home@isp.test',
        MALLARD_OUTBOUND_RELAY_PASSWORD: password,
        MALLARD_OUTBOUND_RETRY_BASE: '3600',
        MALLARD_DKIM_ENABLED: 'false',
      });
    const good = await senderWith('relay-password');
    const bad = await senderWith('not-the-password');
    try {
      await good.addUser('alice@example.test', 'secret');
      await bad.addUser('alice@example.test', 'secret');
      const refusedId = await submit(
        bad,
        ['rcpt@sasl-relayed.test'],
        message('rcpt@sasl-relayed.test', 'bad login'),
      );
      const refused = await recipientSettled(bad, refusedId, 'rcpt@sasl-relayed.test', 'deferred');
      // Postfix's answer to the failed login, kept for the operator; the message waits for a fix.
      expect(refused.lastError).toMatch(/535 5\.7\.8/);
      const id = await submit(
        good,
        ['rcpt@sasl-relayed.test'],
        message('rcpt@sasl-relayed.test', 'sasl relay'),
      );
      await recipientSettled(good, id, 'rcpt@sasl-relayed.test', 'delivered');
      const arrived = await until(
        () => saslRelay.delivered('rcpt@sasl-relayed.test')[0] ?? null,
        'the relayed copy',
      );
      const text = arrived.toString('latin1');
      expect(text).toMatch(/Subject: sasl relay/);
      expect(text).toMatch(/\(Authenticated sender: home@isp\.test\)/);
      expect(saslRelay.delivered('rcpt@sasl-relayed.test')).toHaveLength(1);
    } finally {
      await good.stop();
      await bad.stop();
      await saslRelay.stop();
    }
  }, 60_000);

  it('honours RFC 3461 on submission: NOTIFY (NEVER, default), RET, ENVID and ORCPT in the failure reports', async () => {
    const dsnServer = await startTestServer({
      MALLARD_DNS_SERVERS: dnsmasq.server,
      MALLARD_OUTBOUND_MX_PORT: String(postfix.port),
      MALLARD_DKIM_ENABLED: 'false',
    });
    try {
      const user = await dsnServer.addUser('alice@example.test', 'secret');
      const port = dsnServer.server.submission.listeners.find((l) => !l.implicitTls)!.port;
      const { client } = await SmtpLineClient.connect(port);
      expect(await client.command('EHLO client.test')).toMatch(/^250-DSN$/m);
      const token = Buffer.from('\0alice@example.test\0secret').toString('base64');
      expect(await client.command(`AUTH PLAIN ${token}`)).toMatch(/^235 /);
      // Malformed parameters: 501, nothing queued.
      expect(await client.command(`MAIL FROM:<alice@example.test> ENVID=${'x'.repeat(101)}`)).toMatch(
        /^501 5\.5\.4 /,
      );
      expect(await client.command('MAIL FROM:<alice@example.test> RET=SOME')).toMatch(/^501 /);
      expect(await client.command('MAIL FROM:<alice@example.test> RET=HDRS ENVID=QQ314159')).toMatch(/^250 /);
      expect(await client.command('RCPT TO:<rcpt@direct.test> NOTIFY=BOGUS')).toMatch(/^501 /);
      expect(await client.command('RCPT TO:<rcpt@direct.test> NOTIFY=NEVER,SUCCESS')).toMatch(/^501 /);
      expect(
        await client.command(
          'RCPT TO:<rcpt@direct.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Rcpt+40direct.test',
        ),
      ).toMatch(/^250 /);
      expect(await client.command('RCPT TO:<nobody@direct.test> NOTIFY=NEVER')).toMatch(/^250 /);
      expect(await client.command('RCPT TO:<nobody3@direct.test>')).toMatch(/^250 /);
      const [first] = await client.data(message('rcpt@direct.test', 'dsn hdrs'));
      const firstId = /queued as (\S+)/.exec(first ?? '')![1]!;
      expect(await client.command('MAIL FROM:<alice@example.test> RET=FULL')).toMatch(/^250 /);
      expect(await client.command('RCPT TO:<nobody@direct.test> NOTIFY=FAILURE')).toMatch(/^250 /);
      const [second] = await client.data(message('nobody@direct.test', 'dsn full'));
      const secondId = /queued as (\S+)/.exec(second ?? '')![1]!;
      client.close();

      await recipientSettled(dsnServer, firstId, 'rcpt@direct.test', 'delivered');
      await recipientSettled(dsnServer, firstId, 'nobody@direct.test', 'bounced');
      await recipientSettled(dsnServer, firstId, 'nobody3@direct.test', 'bounced');
      await recipientSettled(dsnServer, secondId, 'nobody@direct.test', 'bounced');
      await dsnServer.server.outbound.idle();
      // Two failure reports: nobody3 (by default) for the first message, none for NOTIFY=NEVER,
      // and nobody for the second. No success report from Mallard: Postfix offers DSN, so it got
      // NOTIFY=SUCCESS with the message and reports the delivery itself (test/sending/dsn.test.ts).
      await until(async () => ((await inboxCount(dsnServer, user)) >= 2 ? true : null), 'two reports');
      const reports = await Promise.all(
        [1, 2].map(async (uid) =>
          (await fetchOverImap(dsnServer.imapPort, 'alice@example.test', 'secret', uid)).toString('latin1'),
        ),
      );
      expect(await inboxCount(dsnServer, user)).toBe(2);
      expect(reports.join('')).not.toMatch(/Successful Mail Delivery Report|Action: (delivered|relayed)/);
      const failures = reports.filter((text) => /Subject: Undelivered Mail Returned to Sender/.test(text));
      expect(failures).toHaveLength(2);
      const headersOnly = failures.find((text) => /Subject: dsn hdrs/.test(text))!;
      expect(headersOnly).toMatch(/Original-Envelope-Id: QQ314159/);
      expect(headersOnly).toMatch(/Final-Recipient: rfc822; nobody3@direct\.test\r\nAction: failed/);
      expect(headersOnly).not.toMatch(/Final-Recipient: rfc822; nobody@direct\.test/);
      expect(headersOnly).toMatch(/Content-Type: text\/rfc822-headers/);
      expect(headersOnly).not.toMatch(/Hello from Mallard/);
      const full = failures.find((text) => /Subject: dsn full/.test(text))!;
      expect(full).toMatch(
        /Content-Type: message\/rfc822\r\n[\s\S]*Subject: dsn full[\s\S]*Hello from Mallard\.\r\n/,
      );
      expect(full).not.toMatch(/Original-Envelope-Id/);
    } finally {
      await dsnServer.stop();
    }
  }, 60_000);

  it('sends several messages and recipients of one domain over one connection (RSET between), one at a time with concurrency_per_domain 1', async () => {
    const reuse = await startTestServer({
      MALLARD_DNS_SERVERS: dnsmasq.server,
      MALLARD_OUTBOUND_MX_PORT: String(postfix.port),
      MALLARD_OUTBOUND_CONCURRENCY_PER_DOMAIN: '1',
      MALLARD_DKIM_ENABLED: 'false',
    });
    try {
      await reuse.addUser('alice@example.test', 'secret');
      const logMark = postfix.log().length;
      const port = reuse.server.submission.listeners.find((l) => !l.implicitTls)!.port;
      const { client } = await SmtpLineClient.connect(port);
      await client.command('EHLO client.test');
      const token = Buffer.from('\0alice@example.test\0secret').toString('base64');
      expect(await client.command(`AUTH PLAIN ${token}`)).toMatch(/^235 /);
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) {
        expect(await client.command('MAIL FROM:<alice@example.test>')).toMatch(/^250 /);
        expect(await client.command('RCPT TO:<rcpt@direct.test>')).toMatch(/^250 /);
        expect(await client.command('RCPT TO:<later@direct.test>')).toMatch(/^250 /);
        const [reply] = await client.data(message('rcpt@direct.test', `reuse ${n}`));
        ids.push(/queued as (\S+)/.exec(reply ?? '')![1]!);
      }
      client.close();
      for (const id of ids) {
        await recipientSettled(reuse, id, 'rcpt@direct.test', 'delivered');
        await recipientSettled(reuse, id, 'later@direct.test', 'delivered');
      }
      // Postfix logs each session's commands when it ends (our idle connection is closed after a
      // few seconds): one connection carried the five messages and their ten recipients.
      const session = await until(() => {
        const log = postfix.log().slice(logMark);
        return /disconnect from \S+ ehlo=\d+ starttls=1 mail=\d+ .*/.exec(log)?.[0] ?? null;
      }, 'the connection to end');
      expect(session).toMatch(/ mail=5 rcpt=10 data=5 rset=\d+ quit=1 /);
      const connects =
        postfix
          .log()
          .slice(logMark)
          .match(/\]: connect from /g) ?? [];
      expect(connects).toHaveLength(1);
    } finally {
      await reuse.stop();
    }
  }, 60_000);

  it('signs with rsa-sha256 and ed25519-sha256 once the domain has an ed25519 key; dkimpy verifies both', async () => {
    const keys = new DkimKeys(server.config.data_dir, server.config.dkim.selector);
    keys.rotate('example.test', 'ed25519');
    const records = keys.dnsRecords('example.test').map(({ name, value }) => ({ name, value }));
    expect(records).toHaveLength(2);
    const port = dnsmasq.port;
    await dnsmasq.stop();
    dnsmasq = await startDnsmasq(zones(records), port);
    const id = await submit(server, ['rcpt@direct.test'], message('rcpt@direct.test', 'dual signed'));
    await recipientSettled(server, id, 'rcpt@direct.test', 'delivered');
    const arrived = await until(
      () =>
        postfix.delivered('rcpt@direct.test').find((raw) => /Subject: dual signed/.test(raw.toString())) ??
        null,
      'the dual-signed copy',
    );
    const text = arrived.toString('latin1');
    expect(text).toMatch(/^DKIM-Signature: [^]*?a=rsa-sha256/m);
    expect(text).toMatch(/^DKIM-Signature: [^]*?a=ed25519-sha256/m);
    expect((text.match(/^DKIM-Signature:/gm) ?? []).length).toBe(2);
    expect(await dkimpyVerifiesEach(Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1'))).toBe('pass pass');
  });

  it("sends unsigned once the domain's DKIM switch is off, signed again when it is back on", async () => {
    const sendAndRead = async (subject: string) => {
      const id = await submit(server, ['rcpt@direct.test'], message('rcpt@direct.test', subject));
      await recipientSettled(server, id, 'rcpt@direct.test', 'delivered');
      const pattern = new RegExp(`Subject: ${subject}`);
      return (
        await until(
          () => postfix.delivered('rcpt@direct.test').find((raw) => pattern.test(raw.toString())) ?? null,
          subject,
        )
      ).toString('latin1');
    };
    await server.server.store.updateDomain('example.test', { dkim: false });
    try {
      expect(await sendAndRead('switch off')).not.toMatch(/^DKIM-Signature:/m);
    } finally {
      await server.server.store.updateDomain('example.test', { dkim: true });
    }
    expect(await sendAndRead('switch on')).toMatch(/^DKIM-Signature: .*d=example\.test/m);
  });

  it('sends everything through the relay when one is set, whatever the MX', async () => {
    const relayed = await startTestServer({
      // relayed.test has no DNS at all: only the relay can deliver it.
      MALLARD_DNS_SERVERS: dnsmasq.server,
      MALLARD_OUTBOUND_RELAY_HOST: MX_HOST,
      MALLARD_OUTBOUND_RELAY_PORT: String(postfix.port),
      MALLARD_OUTBOUND_RELAY_TLS: 'none',
      MALLARD_DKIM_ENABLED: 'false',
    });
    try {
      await relayed.addUser('alice@example.test', 'secret');
      const id = await submit(relayed, ['rcpt@relayed.test'], message('rcpt@relayed.test', 'via relay'));
      await recipientSettled(relayed, id, 'rcpt@relayed.test', 'delivered');
      expect((await deliveredAt('rcpt@relayed.test', 1)).toString()).toMatch(/Subject: via relay/);
    } finally {
      await relayed.stop();
    }
  });
});
