/**
 * BURL (RFC 4468) on submission, on both store engines, over real TCP with STARTTLS: a message saved over IMAP
 * (imapflow), a URLAUTH for the submit role made with GENURLAUTH (imapflow), then sent by URL
 * with raw transcripts and with Python's smtplib. Covered: `BURL imap` only after AUTH; a
 * message from one URL or from several pieces (header and text sections) stored byte for byte;
 * the refusals with their enhanced codes (no AUTH, no MAIL/RCPT, bad syntax, not an IMAP URL,
 * a wrong token, another user's or the IMAP role, a message gone) and the reset after one; DATA
 * refused in the middle of a BURL message; the size limit; BDAT (RFC 3030 CHUNKING) alone and
 * mixed with BURL pieces, pipelined, its bytes read even when refused.
 */
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imapflowClient, type Account } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { newestInInbox, python, SmtpLineClient, splitStored } from '../delivery/clients.ts';

const SIZE_LIMIT = 20_000;
let server: TestServer;
let alice: Account;
let bob: Account;
let submissionPort: number;
let imap: ImapFlow;
let mongo: MongoStandIn | null = null;

const DRAFT = Buffer.from(
  'From: alice@example.test\r\nTo: bob@example.test\r\nSubject: by URL\r\n\r\nSent without uploading it again.\r\n',
);

/** Alice's draft saved in INBOX over IMAP; its UID and UIDVALIDITY. */
async function saveDraft(raw: Buffer = DRAFT): Promise<{ uid: number; uidValidity: bigint }> {
  const saved = await imap.append('INBOX', raw);
  if (!saved) throw new Error('APPEND failed');
  return { uid: saved.uid!, uidValidity: saved.uidValidity! };
}

/** GENURLAUTH of a rump over IMAP (imapflow); the URL with its token. */
async function genUrlAuth(rump: string): Promise<string> {
  let url = '';
  const exec = (imap as unknown as { exec: ImapExec }).exec.bind(imap);
  const response = await exec(
    'GENURLAUTH',
    [
      { type: 'STRING', value: rump },
      { type: 'ATOM', value: 'INTERNAL' },
    ],
    {
      untagged: {
        GENURLAUTH: async (untagged: { attributes: Array<{ value: string }> }) => {
          url = untagged.attributes[0]!.value;
        },
      },
    },
  );
  response.next();
  return url;
}
type ImapExec = (
  command: string,
  attributes: unknown[],
  options: {
    untagged: Record<string, (untagged: { attributes: Array<{ value: string }> }) => Promise<void>>;
  },
) => Promise<{ next(): void }>;

/** The rump of a URL to Alice's message `uid` (and section), for `access`. */
function rump(draft: { uid: number; uidValidity: bigint }, access: string, section = ''): string {
  return (
    `imap://alice%40example.test@localhost/INBOX;UIDVALIDITY=${draft.uidValidity}/;UID=${draft.uid}` +
    `${section ? `/;SECTION=${section}` : ''};URLAUTH=${access}`
  );
}

const plain = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64');

/** A submission session after STARTTLS and EHLO; logged in as `login` when given; its EHLO reply. */
async function session(login?: Account): Promise<{ client: SmtpLineClient; ehlo: string }> {
  const { client } = await SmtpLineClient.connect(submissionPort);
  await client.command('EHLO client.test');
  expect(await client.command('STARTTLS')).toMatch(/^220 /);
  await client.startTls();
  let ehlo = await client.command('EHLO client.test');
  if (login) {
    expect(await client.command(`AUTH PLAIN ${plain(login.username, login.password)}`)).toMatch(/^235 /);
    ehlo = await client.command('EHLO client.test');
  }
  return { client, ehlo };
}

/** MAIL FROM Alice and RCPT TO Bob, both accepted. */
async function envelope(client: SmtpLineClient): Promise<void> {
  expect(await client.command('MAIL FROM:<alice@example.test>')).toMatch(/^250 /);
  expect(await client.command('RCPT TO:<bob@example.test>')).toMatch(/^250 /);
}

describe.each(['sqlite', 'mongodb'] as const)('BURL on submission (%s)', (engine) => {
  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = {};
    if (engine === 'mongodb') {
      mongo = await startMongoStandIn();
      env.MALLARD_STORE_ENGINE = 'mongodb';
      env.MALLARD_STORE_MONGODB_URI = freshDatabaseUri(mongo.uri);
    }
    server = await startTestServer({
      ...env,
      MALLARD_LIMITS_MAX_MESSAGE_SIZE: String(SIZE_LIMIT),
      MALLARD_SUBMISSION_HOST: '127.0.0.1',
      MALLARD_TLS_PLAINTEXT_AUTH_ON_LOOPBACK: 'false',
      MALLARD_DNS_SERVERS: '127.0.0.1:9',
      MALLARD_DKIM_ENABLED: 'false',
    });
    const account = async (username: string): Promise<Account> => ({
      server,
      username,
      password: 'secret',
      userId: await server.addUser(username, 'secret'),
    });
    alice = await account('alice@example.test');
    bob = await account('bob@example.test');
    submissionPort = server.server.submission.listeners.find((l) => !l.implicitTls)!.port;
    imap = await imapflowClient(alice);
  }, 120_000);
  afterAll(async () => {
    await imap?.logout();
    await server?.stop();
    await mongo?.stop();
    mongo = null;
  }, 60_000);

  it('is advertised as "BURL imap" to authenticated sessions only', async () => {
    const before = await session();
    expect(before.ehlo).not.toMatch(/BURL/);
    before.client.close();
    const after = await session(alice);
    expect(after.ehlo).toMatch(/^250[- ]BURL imap$/m);
    after.client.close();
  });

  it('sends a saved message by URL: stored for the recipient byte for byte', async () => {
    const draft = await saveDraft();
    const url = await genUrlAuth(rump(draft, 'submit+alice%40example.test'));
    expect(url).toMatch(/:INTERNAL:[0-9a-f]{64}$/);
    const { client } = await session(alice);
    await envelope(client);
    expect(await client.command(`BURL ${url} LAST`)).toMatch(/^250 2\.0\.0 /);
    expect(splitStored(await newestInInbox(server, bob.userId), DRAFT).rest).toEqual(DRAFT);
    client.close();
  });

  it('joins several BURL pieces (header and text sections) into one message', async () => {
    const draft = await saveDraft();
    const header = await genUrlAuth(rump(draft, 'submit+alice%40example.test', 'HEADER'));
    const text = await genUrlAuth(rump(draft, 'submit+alice%40example.test', 'TEXT'));
    const { client } = await session(alice);
    await envelope(client);
    expect(await client.command(`BURL ${header}`)).toMatch(/^250 2\.0\.0 /);
    // DATA now would drop the pieces: refused, and the message goes on.
    expect(await client.command('DATA')).toMatch(/^503 5\.5\.1 /);
    expect(await client.command(`BURL ${text} LAST`)).toMatch(/^250 2\.0\.0 /);
    expect(splitStored(await newestInInbox(server, bob.userId), DRAFT).rest).toEqual(DRAFT);
    client.close();
  });

  it('refuses with enhanced codes, and resets the transaction after a refused URL', async () => {
    const draft = await saveDraft();
    const good = await genUrlAuth(rump(draft, 'submit+alice%40example.test'));
    const forBob = await genUrlAuth(rump(draft, 'submit+bob%40example.test'));
    const forImap = await genUrlAuth(rump(draft, 'user+alice%40example.test'));
    const wrongToken = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');

    const anonymous = await session();
    expect(await anonymous.client.command(`BURL ${good} LAST`)).toMatch(/^530 5\.7\.0 /);
    anonymous.client.close();

    const { client } = await session(alice);
    expect(await client.command(`BURL ${good} LAST`)).toMatch(/^503 5\.5\.1 .*MAIL/);
    expect(await client.command('MAIL FROM:<alice@example.test>')).toMatch(/^250 /);
    expect(await client.command(`BURL ${good} LAST`)).toMatch(/^503 5\.5\.1 .*RCPT/);
    expect(await client.command('RCPT TO:<bob@example.test>')).toMatch(/^250 /);
    expect(await client.command('BURL')).toMatch(/^501 5\.5\.4 /);
    expect(await client.command(`BURL ${good} NOW`)).toMatch(/^501 5\.5\.4 /);
    // A syntax error leaves the transaction as it was.
    expect(await client.command('RSET')).toMatch(/^250 /);
    const refusals: Array<[string, RegExp]> = [
      ['http://localhost/INBOX/;UID=1', /^554 5\.5\.4 /],
      [rump(draft, 'submit+alice%40example.test'), /^554 5\.5\.4 /], // a rump: no token
      [wrongToken, /^554 5\.7\.0 /],
      [forBob, /^554 5\.7\.0 /],
      [forImap, /^554 5\.7\.0 /],
    ];
    for (const [url, expected] of refusals) {
      await envelope(client);
      expect(await client.command(`BURL ${url} LAST`), url).toMatch(expected);
      // The transaction is over: the next BURL needs a MAIL first.
      expect(await client.command(`BURL ${good} LAST`)).toMatch(/^503 5\.5\.1 /);
    }
    // A message deleted since: authorized, but nothing to resolve.
    const gone = await saveDraft();
    const goneUrl = await genUrlAuth(rump(gone, 'submit+alice%40example.test'));
    await imap.mailboxOpen('INBOX');
    await imap.messageDelete(String(gone.uid), { uid: true });
    await envelope(client);
    expect(await client.command(`BURL ${goneUrl} LAST`)).toMatch(/^554 5\.6\.6 /);
    client.close();
  });

  it('refuses a BURL or BDAT message over the size limit with 552 5.3.4', async () => {
    const big = Buffer.from(`Subject: big\r\n\r\n${'x'.repeat(SIZE_LIMIT / 2)}\r\n`);
    const draft = await saveDraft(big);
    const url = await genUrlAuth(rump(draft, 'submit+alice%40example.test'));
    const { client } = await session(alice);
    await envelope(client);
    expect(await client.command(`BURL ${url}`)).toMatch(/^250 /);
    expect(await client.command(`BURL ${url} LAST`)).toMatch(/^552 5\.3\.4 /);
    // A BDAT chunk past the limit is read to its end (and dropped), then refused.
    await envelope(client);
    const chunk = Buffer.alloc(SIZE_LIMIT + 1, 'x');
    client.line.send(Buffer.concat([Buffer.from(`BDAT ${chunk.length} LAST\r\n`), chunk]));
    expect(await client.reply()).toMatch(/^552 5\.3\.4 /);
    expect(await client.command('NOOP')).toMatch(/^250 /);
    client.close();
  });

  it('takes BDAT chunks mixed with BURL pieces (RFC 4468 4), pipelined in one write', async () => {
    const draft = await saveDraft();
    const text = await genUrlAuth(rump(draft, 'submit+alice%40example.test', 'TEXT'));
    const { client, ehlo } = await session(alice);
    expect(ehlo).toMatch(/^250[- ]CHUNKING$/m);
    await envelope(client);
    // A new header of the client's own, then the draft's text by URL.
    const header = Buffer.from(
      'From: alice@example.test\r\nTo: bob@example.test\r\nSubject: Fwd: by URL\r\n\r\n',
    );
    client.line.send(
      Buffer.concat([Buffer.from(`BDAT ${header.length}\r\n`), header, Buffer.from(`BURL ${text} LAST\r\n`)]),
    );
    expect(await client.reply()).toMatch(/^250 2\.0\.0 /);
    expect(await client.reply()).toMatch(/^250 2\.0\.0 /);
    const sent = Buffer.concat([header, Buffer.from('Sent without uploading it again.\r\n')]);
    expect(splitStored(await newestInInbox(server, bob.userId), sent).rest).toEqual(sent);
    client.close();
  });

  it('takes a BDAT message as it is (no dot-stuffing), and reads a refused chunk to its end', async () => {
    const { client } = await session(alice);
    const raw = Buffer.from('From: alice@example.test\r\nSubject: chunks\r\n\r\n.\r\n..two dots\r\nend\r\n');
    // Refused before MAIL, yet its bytes (a line that looks like a command among them) are read.
    const trap = Buffer.from('QUIT\r\n');
    client.line.send(Buffer.concat([Buffer.from(`BDAT ${trap.length} LAST\r\n`), trap]));
    expect(await client.reply()).toMatch(/^503 5\.5\.1 /);
    expect(await client.command('NOOP')).toMatch(/^250 /);
    await envelope(client);
    const [first, second] = [raw.subarray(0, 20), raw.subarray(20)];
    client.line.send(Buffer.concat([Buffer.from(`BDAT ${first.length}\r\n`), first]));
    expect(await client.reply()).toMatch(/^250 2\.0\.0 20 octets/);
    expect(await client.command('DATA')).toMatch(/^503 5\.5\.1 /);
    client.line.send(Buffer.concat([Buffer.from(`BDAT ${second.length} LAST\r\n`), second]));
    expect(await client.reply()).toMatch(/^250 2\.0\.0 /);
    expect(splitStored(await newestInInbox(server, bob.userId), raw).rest).toEqual(raw);
    expect(await client.command('BDAT x')).toMatch(/^501 5\.5\.4 /);
    client.close();
  });

  it('works from Python smtplib, which sees BURL imap after login', async () => {
    const draft = await saveDraft();
    const url = await genUrlAuth(rump(draft, 'submit+alice%40example.test'));
    const result = await python<{ before: string | null; after: string | null; reply: [number, string] }>(
      `
import json, smtplib, ssl, sys
a = json.load(sys.stdin)
c = smtplib.SMTP('127.0.0.1', a['port'], local_hostname='client.test')
c.starttls(context=ssl._create_unverified_context())
c.ehlo()
before = c.esmtp_features.get('burl')
c.login(a['user'], a['password'])
c.ehlo()
after = c.esmtp_features.get('burl')
c.mail('alice@example.test')
c.rcpt('bob@example.test')
code, text = c.docmd('BURL', a['url'] + ' LAST')
c.quit()
print(json.dumps({'before': before, 'after': after, 'reply': [code, text.decode()]}))
`,
      { port: submissionPort, user: alice.username, password: alice.password, url },
    );
    expect(result.before).toBeNull();
    expect(result.after).toBe('imap');
    expect(result.reply[0]).toBe(250);
    expect(splitStored(await newestInInbox(server, bob.userId), DRAFT).rest).toEqual(DRAFT);
  });
});
