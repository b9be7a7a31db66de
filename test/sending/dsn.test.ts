/**
 * RFC 3461 parameters passed on to the next hop, with real peers: two Debian Postfix instances on
 * loopback as the recipients' MX hosts, one offering DSN and one hiding it
 * (`smtpd_discard_ehlo_keywords = dsn`), and dnsmasq serving their zones. What the sender sees is
 * checked in their INBOX at Mallard: the "delivered" report of the final hop (Postfix's own,
 * routed back to Mallard's port 25) when the next hop offers DSN, and nothing from Mallard then;
 * Mallard's own "relayed" report when the next hop does not offer it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    mailboxes: ['rcpt@dsn.test', 'other@dsn.test', 'third@dsn.test', 'fourth@dsn.test'],
  });
  withoutDsn = await startPostfix({
    host: NO_DSN_HOST,
    port,
    dsn: false,
    mailboxes: ['rcpt@nodsn.test', 'other@nodsn.test'],
  });
  dnsmasq = await startDnsmasq({
    zones: ['dsn.test', 'nodsn.test'],
    mx: [{ domain: 'dsn.test', host: 'mx.dsn.test', preference: 10 }],
    a: [
      { name: 'mx.dsn.test', address: DSN_HOST },
      { name: 'nodsn.test', address: NO_DSN_HOST },
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

describe('DSN parameters and the next hop (RFC 3461)', () => {
  it('passes RET, ENVID, NOTIFY and ORCPT to a next hop that offers DSN: its "delivered" report reaches the INBOX, none from Mallard', async () => {
    const before = await inboxCount(server, alice);
    const id = await submit(
      'RET=HDRS ENVID=QQ314159',
      ['<rcpt@dsn.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Rcpt+40dsn.test'],
      message('rcpt@dsn.test', 'dsn passed on'),
    );
    await allDelivered(id);
    expect(withDsn.delivered('rcpt@dsn.test')).toHaveLength(1);
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
    expect(withoutDsn.delivered('rcpt@nodsn.test')).toHaveLength(1);
    expect(withoutDsn.delivered('other@nodsn.test')).toHaveLength(1);
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
    for (const address of ['rcpt@dsn.test', 'other@dsn.test', 'third@dsn.test', 'fourth@dsn.test']) {
      const copies = withDsn.delivered(address).filter((raw) => /Subject: dsn mixed/.test(raw.toString()));
      expect(copies, address).toHaveLength(1);
    }
    // Three parameter groups (SUCCESS; NEVER twice; none): three transactions, one connection.
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
  }, 60_000);
});
