/**
 * The Filters resource of the admin API at work: settings saved over HTTP become the active Sieve
 * script, and mail delivered over LMTP lands where the filters say, as an IMAP client sees it;
 * forwarding and the vacation reply reach the outbound queue; a hand-written script is not replaced
 * without being asked; "test against recent messages" says what would happen, doing nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, imapflowClient, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { SmtpLineClient } from './clients.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());
afterEach(() => closeClients());

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const admin = server.server.admin!;
  const response = await fetch(`${admin.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text) };
}

function message(to: string, subject: string, extra = '', from = 'friend@remote.test'): Buffer {
  const id = `${subject.replace(/\W/g, '')}-${Date.now()}-${Math.random()}`;
  return Buffer.from(
    `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${id}@remote.test>\r\n${extra}\r\nHello there.\r\n`,
  );
}

async function lmtp(recipient: string, raw: Buffer, sender = 'friend@remote.test'): Promise<string[]> {
  const { client } = await SmtpLineClient.connect(server.lmtpPort);
  try {
    expect(await client.command('LHLO client.test')).toMatch(/^250 /m);
    expect(await client.command(`MAIL FROM:<${sender}>`)).toMatch(/^250 /);
    expect(await client.command(`RCPT TO:<${recipient}>`)).toMatch(/^250 /);
    return await client.data(raw, 1);
  } finally {
    client.close();
  }
}

/** One SMTP (port 25) transaction, where the spam checks run; the reply to DATA. */
async function smtp(recipient: string, raw: Buffer, sender: string): Promise<string> {
  const { client } = await SmtpLineClient.connect(server.smtpPort);
  try {
    expect(await client.command('EHLO client.test')).toMatch(/^250 /m);
    expect(await client.command(`MAIL FROM:<${sender}>`)).toMatch(/^250 /);
    expect(await client.command(`RCPT TO:<${recipient}>`)).toMatch(/^250 /);
    return (await client.data(raw, 1))[0]!;
  } finally {
    client.close();
  }
}

async function queuedTo(address: string) {
  return (await server.server.store.listOutbound()).filter((entry) =>
    entry.recipients.some((recipient) => recipient.address === address),
  );
}

async function subjectsIn(
  account: Account,
  mailbox: string,
): Promise<{ subject: string; flags: string[] }[]> {
  const client = await imapflowClient(account);
  await client.mailboxOpen(mailbox);
  const found: { subject: string; flags: string[] }[] = [];
  for await (const item of client.fetch('1:*', { envelope: true, flags: true }))
    found.push({
      subject: item.envelope?.subject ?? '',
      flags: [...(item.flags ?? [])].filter((flag) => flag !== '\\Recent').sort(),
    });
  await client.logout();
  return found;
}

describe('filters through the admin API', () => {
  it('files, flags and archives delivered mail as the filters say', async () => {
    const account = await newAccount(server);
    const saved = await api('PUT', `/api/users/${account.userId}/filters`, {
      filters: [
        {
          name: 'lists',
          conditions: { listId: 'dev.lists.example' },
          actions: { label: 'Lists/Dev', skipInbox: true, markRead: true },
        },
        { conditions: { from: 'boss@' }, actions: { star: true } },
        { conditions: { subject: 'win a prize' }, actions: { delete: true } },
      ],
    });
    expect(saved).toMatchObject({ status: 200, body: { state: 'managed', activeScript: 'mallard-filters' } });
    expect((await api('GET', `/api/users/${account.userId}/filters`)).body.settings.filters).toHaveLength(3);

    await lmtp(
      account.username,
      message(account.username, 'Release 2.0', 'List-Id: Dev <dev.lists.example>\r\n'),
    );
    await lmtp(account.username, message(account.username, 'Quarterly plan', '', 'boss@office.example'));
    await lmtp(account.username, message(account.username, 'You WIN A PRIZE'));
    await lmtp(account.username, message(account.username, 'Lunch?'));

    expect(await subjectsIn(account, 'Lists/Dev')).toEqual([{ subject: 'Release 2.0', flags: ['\\Seen'] }]);
    expect(await subjectsIn(account, 'INBOX')).toEqual([
      { subject: 'Quarterly plan', flags: ['\\Flagged'] },
      { subject: 'Lunch?', flags: [] },
    ]);
  });

  it('"never send to Spam" keeps in INBOX what a spam verdict would file into Junk', async () => {
    const account = await newAccount(server);
    // The user blocks the sender's domain: SMTP in files its mail into Junk...
    await server.server.store.setSpamEntry(account.userId, 'block', '@bulk.example');
    // ...unless a filter says never to.
    const saved = await api('PUT', `/api/users/${account.userId}/filters`, {
      filters: [{ conditions: { subject: 'receipt' }, actions: { neverSpam: true } }],
    });
    expect(saved.status).toBe(200);
    for (const subject of ['Your receipt', 'Great offers'])
      expect(
        await smtp(
          account.username,
          message(account.username, subject, '', 'shop@bulk.example'),
          'shop@bulk.example',
        ),
      ).toMatch(/^250 /);
    expect((await subjectsIn(account, 'INBOX')).map((entry) => entry.subject)).toEqual(['Your receipt']);
    expect((await subjectsIn(account, 'Junk')).map((entry) => entry.subject)).toEqual(['Great offers']);
  });

  it('forwards with a copy kept, and answers once while on vacation', async () => {
    const account = await newAccount(server);
    const forwarding = await api('PUT', `/api/users/${account.userId}/forwarding`, {
      forwarding: { address: 'me@elsewhere.example', keepCopy: true },
    });
    expect(forwarding.status).toBe(200);
    const vacation = await api('PUT', `/api/users/${account.userId}/vacation`, {
      vacation: { subject: 'Away this week', body: 'I am away; back on Monday.', until: '2999-12-31' },
    });
    expect(vacation.body.settings).toMatchObject({
      forwarding: { address: 'me@elsewhere.example', keepCopy: true },
      vacation: { subject: 'Away this week', days: 7 },
    });

    await lmtp(
      account.username,
      message(account.username, 'Are you there?', '', 'asker@remote.test'),
      'asker@remote.test',
    );
    await lmtp(
      account.username,
      message(account.username, 'Still there?', '', 'asker@remote.test'),
      'asker@remote.test',
    );

    expect(await queuedTo('me@elsewhere.example')).toHaveLength(2);
    const replies = await queuedTo('asker@remote.test');
    expect(replies).toHaveLength(1);
    const reply = (await server.server.store.readOutboundRaw(replies[0]!.id)).toString();
    expect(reply).toMatch(/^Subject: Away this week\r$/m);
    expect(reply).toContain('I am away; back on Monday.');
    expect((await subjectsIn(account, 'INBOX')).map((entry) => entry.subject)).toEqual([
      'Are you there?',
      'Still there?',
    ]);

    const off = await api('PUT', `/api/users/${account.userId}/vacation`, { vacation: null });
    expect(off.body.settings).toMatchObject({
      vacation: null,
      forwarding: { address: 'me@elsewhere.example' },
    });
  });

  it('does not replace a hand-written script unless asked, and refuses bad settings readably', async () => {
    const account = await newAccount(server);
    await api('PUT', `/api/users/${account.userId}/sieve-scripts/mine`, { content: 'keep;\n' });
    await api('POST', `/api/users/${account.userId}/sieve-scripts/mine/activate`);
    expect((await api('GET', `/api/users/${account.userId}/filters`)).body).toMatchObject({
      state: 'other-script',
      activeScript: 'mine',
    });
    const settings = { filters: [{ conditions: { subject: 'x' }, actions: { markRead: true } }] };
    const refused = await api('PUT', `/api/users/${account.userId}/filters`, settings);
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(refused.body.error.message).toMatch(/"mine" was written by hand/);
    const forced = await api('PUT', `/api/users/${account.userId}/filters`, { ...settings, overwrite: true });
    expect(forced.body).toMatchObject({ state: 'managed', activeScript: 'mallard-filters' });
    // The hand-written script is still there, to be activated again.
    expect(
      (await api('GET', `/api/users/${account.userId}/sieve-scripts`)).body.scripts
        .map((s: { name: string }) => s.name)
        .sort(),
    ).toEqual(['mallard-filters', 'mine']);

    const bad = await api('PUT', `/api/users/${account.userId}/filters`, {
      filters: [{ conditions: {}, actions: { label: 'x' } }],
    });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(bad.body.error.message).toMatch(/a filter needs at least one condition/);
  });

  it('tests filters against the recent INBOX messages without touching them', async () => {
    const account = await newAccount(server);
    await lmtp(account.username, message(account.username, 'Invoice 42', '', 'billing@shop.example'));
    await lmtp(account.username, message(account.username, 'Hello'));
    const tested = await api('POST', `/api/users/${account.userId}/filters/test`, {
      settings: {
        filters: [{ conditions: { from: 'billing@' }, actions: { label: 'Bills', skipInbox: true } }],
      },
    });
    expect(tested).toMatchObject({
      status: 200,
      body: {
        results: [
          { uid: 2, subject: 'Hello', matched: [], actions: ['keep in INBOX'] },
          { uid: 1, subject: 'Invoice 42', matched: [0], actions: ['file into Bills'] },
        ],
      },
    });
    expect((await subjectsIn(account, 'INBOX')).map((entry) => entry.subject)).toEqual([
      'Invoice 42',
      'Hello',
    ]);
    const limited = await api('POST', `/api/users/${account.userId}/filters/test`, { limit: 1 });
    expect(limited.body.results).toHaveLength(1);
    const broken = await api('POST', `/api/users/${account.userId}/filters/test`, { script: 'keep\n' });
    expect(broken).toMatchObject({
      status: 400,
      body: { error: { issues: [{ path: expect.stringMatching(/^body\.script:2:1$/) }] } },
    });
  });
});
