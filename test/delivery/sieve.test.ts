/**
 * Sieve at delivery, through real LMTP and SMTP sessions against a real server, checked the way the
 * user sees it (an IMAP client) and the way the world sees it (the outbound queue): filing with
 * :create and flags, discard, reject in the dialogue (LMTP per recipient, SMTP with one recipient)
 * or by a refusal message (SMTP with several), redirect (local and remote), vacation replies once
 * per sender per period and never to lists or robots, and broken scripts that leave mail in INBOX.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, imapflowClient, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { inboxCount, SmtpLineClient } from './clients.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());
afterEach(() => closeClients());

async function withScript(content: string): Promise<Account> {
  const account = await newAccount(server);
  await server.server.store.putSieveScript(account.userId, 'main', content);
  await server.server.store.activateSieveScript(account.userId, 'main');
  return account;
}

function message(to: string, subject: string, extra = '', from = 'sender@remote.test'): Buffer {
  return Buffer.from(
    `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}-${Date.now()}@remote.test>\r\n${extra}\r\nHello.\r\n`,
  );
}

/** One transaction; returns the replies after DATA (LMTP: one per recipient). */
async function send(
  port: number,
  kind: 'lmtp' | 'smtp',
  recipients: string[],
  raw: Buffer,
  sender = 'sender@remote.test',
): Promise<string[]> {
  const { client } = await SmtpLineClient.connect(port);
  try {
    expect(await client.command(`${kind === 'lmtp' ? 'LHLO' : 'EHLO'} client.test`)).toMatch(/^250 /m);
    expect(await client.command(`MAIL FROM:<${sender}>`)).toMatch(/^250 /);
    for (const recipient of recipients)
      expect(await client.command(`RCPT TO:<${recipient}>`)).toMatch(/^250 /);
    return await client.data(raw, kind === 'lmtp' ? recipients.length : 1);
  } finally {
    client.close();
  }
}

const lmtp = (recipients: string[], raw: Buffer, sender?: string) =>
  send(server.lmtpPort, 'lmtp', recipients, raw, sender);
const smtp = (recipients: string[], raw: Buffer, sender?: string) =>
  send(server.smtpPort, 'smtp', recipients, raw, sender);

async function queuedTo(address: string) {
  return (await server.server.store.listOutbound()).filter((entry) =>
    entry.recipients.some((recipient) => recipient.address === address),
  );
}

describe('Sieve at delivery', () => {
  it('files into a mailbox it creates, with flags, as an IMAP client then sees it', async () => {
    const account = await withScript(`require ["fileinto", "mailbox", "imap4flags"];
if header :contains "subject" "invoice" { addflag "\\\\Flagged"; fileinto :create "Invoices"; stop; }
addflag "$Seen-by-filter";`);
    expect(await lmtp([account.username], message(account.username, 'Your invoice'))).toEqual([
      expect.stringMatching(/^250 2\.0\.0 .*Saved as UID 1/),
    ]);
    expect(await lmtp([account.username], message(account.username, 'Lunch?'))).toEqual([
      expect.stringMatching(/^250 /),
    ]);
    const client = await imapflowClient(account);
    const invoices = await client.mailboxOpen('Invoices');
    expect(invoices.exists).toBe(1);
    const [filed] = await client.fetchAll('1:*', { envelope: true, flags: true });
    expect(filed?.envelope?.subject).toBe('Your invoice');
    expect([...(filed?.flags ?? [])].filter((flag) => flag !== '\\Recent')).toEqual(['\\Flagged']);
    await client.mailboxOpen('INBOX');
    const [kept] = await client.fetchAll('1:*', { envelope: true, flags: true });
    expect(kept?.envelope?.subject).toBe('Lunch?');
    expect([...(kept?.flags ?? [])].filter((flag) => flag !== '\\Recent')).toEqual(['$Seen-by-filter']);
  });

  it('discards: nothing is stored and the sender is told 250', async () => {
    const account = await withScript('if header :contains "subject" "spam" { discard; }');
    expect(await lmtp([account.username], message(account.username, 'cheap spam'))).toEqual([
      expect.stringMatching(/^250 /),
    ]);
    expect(await inboxCount(server, account.userId)).toBe(0);
  });

  it('rejects in the LMTP dialogue per recipient with 550 5.7.1 and the reason', async () => {
    const rejecting = await withScript('require "reject"; reject "I do not take mail from you.";');
    const plain = await newAccount(server);
    const replies = await lmtp([rejecting.username, plain.username], message(plain.username, 'hello both'));
    expect(replies).toEqual([
      expect.stringMatching(/^550 5\.7\.1 I do not take mail from you\.\r\n$/),
      expect.stringMatching(/^250 /),
    ]);
    expect(await inboxCount(server, rejecting.userId)).toBe(0);
    expect(await inboxCount(server, plain.userId)).toBe(1);
  });

  it('rejects at SMTP DATA when it is the only recipient, and sends a refusal when there are several', async () => {
    const rejecting = await withScript('require "ereject"; ereject "Not here.";');
    expect(await smtp([rejecting.username], message(rejecting.username, 'one'), 'one@remote.test')).toEqual([
      expect.stringMatching(/^550 5\.7\.1 Not here\.\r\n$/),
    ]);
    expect(await queuedTo('one@remote.test')).toEqual([]);
    const plain = await newAccount(server);
    expect(
      await smtp([rejecting.username, plain.username], message(plain.username, 'two'), 'two@remote.test'),
    ).toEqual([expect.stringMatching(/^250 /)]);
    const [refusal] = await queuedTo('two@remote.test');
    expect(refusal?.sender).toBe('');
    const raw = (await server.server.store.readOutboundRaw(refusal!.id)).toString();
    expect(raw).toMatch(/^Auto-Submitted: auto-replied/m);
    expect(raw).toMatch(/report-type=disposition-notification/);
    expect(raw).toContain('Not here.');
    expect(await inboxCount(server, plain.userId)).toBe(1);
  });

  it('redirects to a local user directly and to a remote address through the outbound queue', async () => {
    const target = await newAccount(server);
    const account = await withScript(
      `require "copy"; redirect "${target.username}"; redirect :copy "far@elsewhere.test";`,
    );
    await lmtp([account.username], message(account.username, 'forward me'));
    expect(await inboxCount(server, target.userId)).toBe(1);
    expect(await inboxCount(server, account.userId)).toBe(0); // the local redirect cancelled the keep
    const [queued] = await queuedTo('far@elsewhere.test');
    expect(queued?.sender).toBe('sender@remote.test');
  });

  it('answers a vacation once per sender per period, never to lists, robots or mail not sent to the user', async () => {
    const account = await withScript(
      'require "vacation"; vacation :days 7 :subject "Away" "Back on Monday.";',
    );
    const to = account.username;
    await smtp([to], message(to, 'first'), 'friend@remote.test');
    await smtp([to], message(to, 'second'), 'friend@remote.test');
    const replies = await queuedTo('friend@remote.test');
    expect(replies).toHaveLength(1);
    const reply = (await server.server.store.readOutboundRaw(replies[0]!.id)).toString();
    expect(reply).toMatch(/^Subject: Away\r$/m);
    expect(reply).toMatch(/^Auto-Submitted: auto-replied/m);
    expect(reply).toMatch(/^In-Reply-To: <first-/m);
    expect(reply).toContain('Back on Monday.');
    expect(replies[0]?.sender).toBe('');
    await smtp([to], message(to, 'news', 'List-Id: <news.remote.test>\r\n'), 'list@remote.test');
    await smtp([to], message(to, 'bulk', 'Precedence: bulk\r\n'), 'bulk@remote.test');
    await smtp([to], message(to, 'auto', 'Auto-Submitted: auto-generated\r\n'), 'robot@remote.test');
    await smtp([to], message('someone-else@remote.test', 'bcc'), 'bcc@remote.test');
    await smtp([to], message(to, 'daemon'), 'MAILER-DAEMON@remote.test');
    for (const sender of ['list', 'bulk', 'robot', 'bcc', 'MAILER-DAEMON']) {
      expect(await queuedTo(`${sender}@remote.test`)).toEqual([]);
    }
    expect(await inboxCount(server, account.userId)).toBe(7); // every message is still kept
  });

  it('keeps mail in INBOX when the script is cut off (10,000 redirects) or does not compile', async () => {
    const redirects = Array.from({ length: 10_000 }, (_, n) => `redirect "r${n}@elsewhere.test";`).join('\n');
    const runaway = await withScript(redirects);
    expect(await lmtp([runaway.username], message(runaway.username, 'runaway'))).toEqual([
      expect.stringMatching(/^250 /),
    ]);
    expect(await inboxCount(server, runaway.userId)).toBe(1);
    expect(await queuedTo('r0@elsewhere.test')).toEqual([]);
    const broken = await withScript('if header :is "subject" { discard; ');
    expect(await lmtp([broken.username], message(broken.username, 'broken'))).toEqual([
      expect.stringMatching(/^250 /),
    ]);
    expect(await inboxCount(server, broken.userId)).toBe(1);
  });

  it("runs the administrator's script (inbound.sieve_before) first; its stop ends the run", async () => {
    const file = path.join(server.config.data_dir, 'before.sieve');
    fs.writeFileSync(
      file,
      'require ["fileinto", "mailbox"]; if header :contains "subject" "[admin]" { fileinto :create "Quarantine"; stop; }',
    );
    server.config.inbound.sieve_before = file;
    try {
      const account = await withScript('discard;');
      await lmtp([account.username], message(account.username, '[admin] check this'));
      await lmtp([account.username], message(account.username, 'ordinary'));
      const client = await imapflowClient(account);
      const quarantine = await client.mailboxOpen('Quarantine');
      expect(quarantine.exists).toBe(1);
      expect(await inboxCount(server, account.userId)).toBe(0); // the user's discard ran for the other
    } finally {
      server.config.inbound.sieve_before = '';
    }
  });

  it('stores the message as edited by editheader', async () => {
    const account = await withScript(
      'require "editheader"; addheader "X-Filtered" "yes"; deleteheader "x-remove-me";',
    );
    await lmtp([account.username], message(account.username, 'edit me', 'X-Remove-Me: 1\r\n'));
    const client = await imapflowClient(account);
    await client.mailboxOpen('INBOX');
    const [stored] = await client.fetchAll('1:*', { source: true });
    const text = stored!.source!.toString();
    expect(text).toMatch(/^X-Filtered: yes\r\n/);
    expect(text).not.toMatch(/X-Remove-Me/i);
    expect(text).toMatch(/^Subject: edit me\r$/m);
  });
});
