/**
 * RFC 3461 parameters passed on to the next hop, with real peers: two Debian Postfix instances on
 * loopback as the recipients' MX hosts, one offering DSN and one hiding it
 * (`smtpd_discard_ehlo_keywords = dsn`), and dnsmasq serving their zones. What the sender sees is
 * checked in their INBOX at Mallard: the "delivered" report of the final hop (Postfix's own,
 * routed back to Mallard's port 25) when the next hop offers DSN, and nothing from Mallard then;
 * Mallard's own "relayed" report when the next hop does not offer it.
 */
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/log.ts';
import { startServer } from '../../server/main.ts';
import type { OutboundMessage } from '../../server/store/outbound.ts';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.ts';
import { freePort } from '../helpers/ports.ts';
import { startPostfix, type Postfix } from '../helpers/postfix.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { fetchOverImap, inboxCount, SmtpLineClient } from '../delivery/clients.ts';

/** The MX of dsn.test: a Postfix that offers DSN. */
const DSN_HOST = '127.0.0.31';
/** The mail host of nodsn.test (its A record, no MX): a Postfix that does not. */
const NO_DSN_HOST = '127.0.0.32';
/** The mail host of halfway.test: a scripted peer that goes away after one transaction. */
const HALFWAY_HOST = '127.0.0.33';

let withDsn: Postfix;
let withoutDsn: Postfix;
let dnsmasq: Dnsmasq;
let server: TestServer;
let alice: string;

beforeAll(async () => {
  // Both listen on the one port Mallard uses for MX hosts (outbound.mx_port).
  const port = await freePort(DSN_HOST);
  withDsn = await startPostfix({
    host: DSN_HOST,
    port,
    mailboxes: ['rcpt@dsn.test', 'other@dsn.test', 'third@dsn.test', 'fourth@dsn.test', 'later@dsn.test'],
  });
  withoutDsn = await startPostfix({
    host: NO_DSN_HOST,
    port,
    dsn: false,
    mailboxes: ['rcpt@nodsn.test', 'other@nodsn.test'],
  });
  dnsmasq = await startDnsmasq({
    zones: ['dsn.test', 'nodsn.test', 'halfway.test'],
    mx: [{ domain: 'dsn.test', host: 'mx.dsn.test', preference: 10 }],
    a: [
      { name: 'mx.dsn.test', address: DSN_HOST },
      { name: 'nodsn.test', address: NO_DSN_HOST },
      { name: 'halfway.test', address: HALFWAY_HOST },
    ],
  });
  server = await startTestServer({
    MALLARD_DNS_SERVERS: dnsmasq.server,
    MALLARD_OUTBOUND_MX_PORT: String(port),
    MALLARD_DKIM_ENABLED: 'false',
  });
  alice = await server.addUser('alice@example.test', 'secret');
  // Postfix's reports to alice come back to Mallard as mail from the Internet would.
  await withDsn.setTransport([`example.test smtp:[127.0.0.1]:${server.smtpPort}`]);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await dnsmasq?.stop();
  await withDsn?.stop();
  await withoutDsn?.stop();
});

function message(to: string, subject: string): Buffer {
  return Buffer.from(
    `From: Alice <alice@example.test>\r\nTo: ${to}\r\nSubject: ${subject}\r\n` +
      `Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.test>\r\n\r\n` +
      `Hello from Mallard.\r\n`,
  );
}

/** Submits over 587 with the given MAIL FROM parameters and RCPT TO lines; returns the queue id. */
async function submit(mailParameters: string, rcptLines: string[], raw: Buffer): Promise<string> {
  const port = server.server.submission.listeners.find((l) => !l.implicitTls)!.port;
  const { client } = await SmtpLineClient.connect(port);
  try {
    expect(await client.command('EHLO client.test')).toMatch(/^250-DSN$/m);
    const token = Buffer.from('\0alice@example.test\0secret').toString('base64');
    expect(await client.command(`AUTH PLAIN ${token}`)).toMatch(/^235 /);
    expect(await client.command(`MAIL FROM:<alice@example.test> ${mailParameters}`.trim())).toMatch(/^250 /);
    for (const line of rcptLines) expect(await client.command(`RCPT TO:${line}`)).toMatch(/^250 /);
    const [reply] = await client.data(raw);
    return /queued as (\S+)/.exec(reply ?? '')![1]!;
  } finally {
    client.close();
  }
}

async function until<T>(
  probe: () => Promise<T | null> | T | null,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until every recipient of a queued message is delivered, and Mallard's reports are stored. */
async function allDelivered(id: string): Promise<void> {
  await until(async () => {
    const queued: OutboundMessage | null = await server.server.store.getOutbound(id);
    return queued?.recipients.every((r) => r.state === 'delivered') ?? null;
  }, `message ${id} to be delivered`);
  // The worker stores its reports before it lets go of the message.
  await server.server.outbound.idle();
}

/** The INBOX messages with a UID above `after`, over IMAP, as alice's mail client sees them. */
async function inboxAfter(after: number): Promise<string[]> {
  const count = await inboxCount(server, alice);
  const uids = Array.from({ length: count - after }, (_, index) => after + index + 1);
  return Promise.all(
    uids.map(async (uid) =>
      (await fetchOverImap(server.imapPort, 'alice@example.test', 'secret', uid)).toString('latin1'),
    ),
  );
}

/** Postfix's summary of the sessions that ended since `mark` ("mail=2 rcpt=3 data=2 ..."). */
function sessionsSince(postfix: Postfix, mark: number): string[] {
  return [
    ...postfix
      .log()
      .slice(mark)
      .matchAll(/disconnect from \S+ (ehlo=.*)/g),
  ].map((match) => match[1]!);
}

/**
 * An SMTP peer that offers DSN, takes one transaction and answers the next MAIL FROM with 421
 * before closing: a host that goes away between two transactions of one message. Keeps every
 * command line it got.
 */
async function startHalfwayPeer(host: string, port: number) {
  const lines: string[] = [];
  const server = net.createServer((socket) => {
    let inData = false;
    let mails = 0;
    let buffered = '';
    socket.on('error', () => undefined);
    socket.write('220 halfway.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            socket.write('250 2.0.0 queued\r\n');
          }
          continue;
        }
        lines.push(line);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-halfway.test\r\n250-DSN\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL' && ++mails > 1) socket.end('421 4.3.2 halfway.test going away\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 2.0.0 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { lines, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('DSN parameters and the next hop (RFC 3461)', () => {
  it('passes RET, ENVID, NOTIFY and ORCPT to a next hop that offers DSN: its "delivered" report reaches the INBOX, none from Mallard', async () => {
    const before = await inboxCount(server, alice);
    const id = await submit(
      'RET=HDRS ENVID=QQ314159',
      ['<rcpt@dsn.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Rcpt+40dsn.test'],
      message('rcpt@dsn.test', 'dsn passed on'),
    );
    await allDelivered(id);
    // Postfix delivers to its mailbox after its 250, and reports once it did.
    await until(() => withDsn.delivered('rcpt@dsn.test').length === 1, 'the delivered copy');
    await until(async () => ((await inboxCount(server, alice)) > before ? true : null), "Postfix's report");
    const [report, ...more] = await inboxAfter(before);
    expect(more).toEqual([]);
    // The final hop's report, with what the sender gave Mallard.
    expect(report).toMatch(/^Return-Path: <>\r\n/);
    expect(report).toMatch(/Content-Type: multipart\/report; report-type=delivery-status;/);
    expect(report).toMatch(/Reporting-MTA: dns; ?mx\.postfix\.test/);
    expect(report).toMatch(/Original-Envelope-Id: QQ314159/);
    expect(report).toMatch(/Original-Recipient: rfc822; ?Rcpt@dsn\.test/);
    expect(report).toMatch(/Final-Recipient: rfc822; ?rcpt@dsn\.test/);
    expect(report).toMatch(/Action: delivered/);
    // RET=HDRS: the header of the message, not its body.
    expect(report).toMatch(/Content-Type: text\/rfc822-headers[\s\S]*Subject: dsn passed on/);
    expect(report).not.toMatch(/Hello from Mallard/);
    expect(report).not.toMatch(/Reporting-MTA: dns; localhost/);
  }, 60_000);

  it('reports "relayed" itself, with ENVID and ORCPT, when the next hop does not offer DSN', async () => {
    const before = await inboxCount(server, alice);
    const mark = withoutDsn.log().length;
    const id = await submit(
      'RET=FULL ENVID=NODSN-1',
      [
        '<rcpt@nodsn.test> NOTIFY=SUCCESS ORCPT=rfc822;Rcpt+40nodsn.test',
        // Different parameters, but nothing is passed on to this hop: one transaction for both.
        '<other@nodsn.test> NOTIFY=NEVER',
      ],
      message('rcpt@nodsn.test', 'dsn not offered'),
    );
    await allDelivered(id);
    await until(async () => ((await inboxCount(server, alice)) > before ? true : null), "Mallard's report");
    const [report, ...more] = await inboxAfter(before);
    expect(more).toEqual([]);
    expect(report).toMatch(/Subject: Successful Mail Delivery Report/);
    expect(report).toMatch(/Original-Envelope-Id: NODSN-1\r\nReporting-MTA: dns; localhost/);
    expect(report).toMatch(
      /Original-Recipient: rfc822; Rcpt@nodsn\.test\r\nFinal-Recipient: rfc822; rcpt@nodsn\.test\r\nAction: relayed\r\nStatus: 2\.0\.0\r\nRemote-MTA: dns; nodsn\.test/,
    );
    expect(report).not.toMatch(/other@nodsn\.test>:|Final-Recipient: rfc822; other/);
    for (const address of ['rcpt@nodsn.test', 'other@nodsn.test']) {
      await until(() => withoutDsn.delivered(address).length === 1, `the copy for ${address}`);
    }
    const sessions = await until(() => {
      const ended = sessionsSince(withoutDsn, mark);
      return ended.length > 0 ? ended : null;
    }, 'the session to end');
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatch(/ mail=1 rcpt=2 data=1 /);
  }, 60_000);

  it('sends recipients with different NOTIFY in separate transactions over one connection, each once', async () => {
    const before = await inboxCount(server, alice);
    const mark = withDsn.log().length;
    const id = await submit(
      'ENVID=MIXED-1',
      [
        '<rcpt@dsn.test> NOTIFY=SUCCESS',
        '<other@dsn.test> NOTIFY=NEVER',
        '<third@dsn.test>',
        '<fourth@dsn.test> NOTIFY=NEVER',
      ],
      message('rcpt@dsn.test', 'dsn mixed'),
    );
    await allDelivered(id);
    const copies = (address: string) =>
      withDsn.delivered(address).filter((raw) => /Subject: dsn mixed/.test(raw.toString())).length;
    for (const address of ['rcpt@dsn.test', 'other@dsn.test', 'third@dsn.test', 'fourth@dsn.test']) {
      await until(() => copies(address) > 0, `the copy for ${address}`);
    }
    // Three parameter groups (SUCCESS; NEVER twice; none): three transactions, one connection, with
    // four recipients in all, so each was sent once.
    const sessions = await until(() => {
      const ended = sessionsSince(withDsn, mark).filter((line) => / mail=/.test(line));
      return ended.length > 0 ? ended : null;
    }, 'the session to end');
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatch(/ mail=3 rcpt=4 data=3 /);
    // Only rcpt asked for a success report: Postfix sends it, Mallard none.
    await until(async () => ((await inboxCount(server, alice)) > before ? true : null), "Postfix's report");
    const [report, ...more] = await inboxAfter(before);
    expect(more).toEqual([]);
    expect(report).toMatch(/Original-Envelope-Id: MIXED-1/);
    expect(report).toMatch(/Final-Recipient: rfc822; ?rcpt@dsn\.test/);
    expect(report).not.toMatch(/Final-Recipient: rfc822; ?(other|third|fourth)@dsn\.test/);
    for (const address of ['rcpt@dsn.test', 'other@dsn.test', 'third@dsn.test', 'fourth@dsn.test']) {
      expect(copies(address), address).toBe(1);
    }
  }, 60_000);

  it('keeps the answered transaction when the host goes away before the next one: the rest is deferred, nothing sent twice', async () => {
    const peer = await startHalfwayPeer(HALFWAY_HOST, Number(server.config.outbound.mx_port));
    try {
      const before = await inboxCount(server, alice);
      const id = await submit(
        'ENVID=HALF-1',
        ['<first@halfway.test> NOTIFY=SUCCESS ORCPT=rfc822;First+40halfway.test', '<second@halfway.test>'],
        message('first@halfway.test', 'dsn halfway'),
      );
      const settled = await until(async () => {
        const queued = await server.server.store.getOutbound(id);
        const states = queued?.recipients.map((r) => r.state) ?? [];
        return states.includes('queued') ? null : queued;
      }, 'both recipients to have a result');
      await server.server.outbound.idle();
      const [first, second] = settled!.recipients;
      expect(first).toMatchObject({ address: 'first@halfway.test', state: 'delivered' });
      expect(second).toMatchObject({ address: 'second@halfway.test', state: 'deferred' });
      expect(second!.lastError).toMatch(/421 4\.3\.2 halfway\.test going away/);
      // The parameters on the wire, first's transaction only, then RSET and the refused MAIL.
      expect(peer.lines.filter((line) => !/^(EHLO|QUIT)/i.test(line))).toEqual([
        'MAIL FROM:<alice@example.test> ENVID=HALF-1',
        // xtext: "@" needs no encoding, so the ORCPT goes on decoded and encoded again.
        'RCPT TO:<first@halfway.test> NOTIFY=SUCCESS ORCPT=rfc822;First@halfway.test',
        'DATA',
        'RSET',
        'MAIL FROM:<alice@example.test> ENVID=HALF-1',
      ]);
      // The peer offered DSN and took NOTIFY=SUCCESS: the success report is its duty, not ours.
      expect(await inboxCount(server, alice)).toBe(before);
    } finally {
      await peer.close();
    }
  }, 60_000);

  it('passes the parameters on after a restart: a deferred recipient keeps its NOTIFY, ORCPT and ENVID', async () => {
    await withDsn.setAccess(['later@dsn.test 451 4.7.1 greylisted']);
    const before = await inboxCount(server, alice);
    const id = await submit(
      'RET=HDRS ENVID=RESTART-1',
      ['<later@dsn.test> NOTIFY=SUCCESS ORCPT=rfc822;Later@dsn.test'],
      message('later@dsn.test', 'dsn after restart'),
    );
    await until(async () => {
      const queued = await server.server.store.getOutbound(id);
      return queued?.recipients[0]?.state === 'deferred' ? true : null;
    }, 'the recipient to be deferred');
    await server.server.outbound.idle();
    // A new server process on the same store; only the queue knows what the client asked.
    const dataDir = server.config.data_dir;
    await server.server.stop();
    const restarted = await startServer(server.config, {
      ephemeralPorts: true,
      logger: createLogger(process.env.MALLARD_TEST_LOG ?? 'silent', process.stderr),
    });
    server = {
      ...server,
      server: restarted,
      imapPort: restarted.imap.listeners.find((l) => !l.implicitTls)!.port,
      smtpPort: restarted.smtp.listeners[0]!.port,
      async stop() {
        await restarted.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
    // The new port for Postfix's reports first, then the greylisting lifted.
    await withDsn.setTransport([`example.test smtp:[127.0.0.1]:${server.smtpPort}`]);
    await withDsn.setAccess([]);
    // Postfix reloads its tables in the background: retry until it accepts.
    await until(async () => {
      await restarted.store.retryOutbound(id);
      restarted.outbound.wake();
      await restarted.outbound.idle();
      const queued = await restarted.store.getOutbound(id);
      return queued?.recipients[0]?.state === 'delivered' ? true : null;
    }, 'the retry to be delivered');
    await until(async () => ((await inboxCount(server, alice)) > before ? true : null), "Postfix's report");
    const [report, ...more] = await inboxAfter(before);
    expect(more).toEqual([]);
    expect(report).toMatch(/Reporting-MTA: dns; ?mx\.postfix\.test/);
    expect(report).toMatch(/Original-Envelope-Id: RESTART-1/);
    expect(report).toMatch(/Original-Recipient: rfc822; ?Later@dsn\.test/);
    expect(report).toMatch(/Action: delivered/);
    expect(report).not.toMatch(/Hello from Mallard/);
  }, 60_000);
});
