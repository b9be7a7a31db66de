/**
 * URLAUTH (RFC 4467) with URL-PARTIAL (RFC 5550) on both store engines: the capabilities; RFC
 * 4467's example (GENURLAUTH of two sections for another user, URLFETCH of them by that user);
 * the access identifiers (anonymous, authuser, user+name, submit+name); NIL for a URL that is not
 * honoured (wrong token, expired, not for this user, after RESETKEY of its mailbox or of all);
 * GENURLAUTH refusing what is not a rump of the user's own message; CATENATE with a URLAUTH URL
 * to another user's message; extended URLFETCH (RFC 5524: BODY, BINARY, BODYPARTSTRUCTURE).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

/** A message whose part 1 is a multipart, so that sections 1.2 and 1.3 exist as in the RFC. */
const MESSAGE = Buffer.from(
  [
    'From: joe@example.com',
    'Subject: forward these',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="outer"',
    '',
    '--outer',
    'Content-Type: multipart/mixed; boundary="inner"',
    '',
    '--inner',
    'Content-Type: text/plain',
    '',
    'Cover note.',
    '--inner',
    'Content-Type: text/plain',
    '',
    'Si vis pacem, para bellum.',
    '',
    '--inner',
    'Content-Type: text/plain',
    '',
    'Qui desiderat pacem, praeparet bellum.',
    '--inner--',
    '--outer--',
    '',
  ].join('\r\n'),
);

/** A message with a base64 attachment that holds NUL bytes (part 2). */
const ATTACHMENT = Buffer.from([0x00, 0x01, 0x02, 0x41, 0x0d, 0x0a, 0xff]);
const WITH_ATTACHMENT = Buffer.from(
  [
    'From: joe@example.com',
    'Subject: the file',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Caf=C3=A9 ou th=C3=A9?',
    '--b',
    'Content-Type: application/octet-stream; name="f.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    ATTACHMENT.toString('base64'),
    '--b--',
    '',
  ].join('\r\n'),
);

function quoted(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1]!);
}

describe.each(['sqlite', 'mongodb'] as const)('URLAUTH on %s', (engine) => {
  let server: TestServer;
  let mongo: MongoStandIn | null = null;

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = {};
    if (engine === 'mongodb') {
      mongo = await startMongoStandIn();
      env.MALLARD_STORE_ENGINE = 'mongodb';
      env.MALLARD_STORE_MONGODB_URI = freshDatabaseUri(mongo.uri);
    }
    server = await startTestServer(env);
  }, 120_000);
  afterEach(closeClients);
  afterAll(async () => {
    await server?.stop();
    await mongo?.stop();
  }, 60_000);

  /** Joe, with MESSAGE as UID 1 of his INBOX, and Fred; both logged in. */
  async function joeAndFred(): Promise<{
    joe: Account;
    fred: Account;
    joeClient: LineClient;
    fredClient: LineClient;
  }> {
    const joe = await newAccount(server);
    const fred = await newAccount(server);
    const inbox = (await server.server.store.getMailbox(joe.userId, 'INBOX'))!;
    await server.server.store.append(inbox.id, MESSAGE);
    return { joe, fred, joeClient: await loggedIn(joe), fredClient: await loggedIn(fred) };
  }

  const base = (account: Account) => `imap://${encodeURIComponent(account.username)}@localhost/INBOX`;

  /** GENURLAUTH of one rump; the URL generated. */
  async function generate(client: LineClient, rump: string): Promise<string> {
    const answer = await client.command('g', `GENURLAUTH "${rump}" INTERNAL`);
    expect(answer).toMatch(/^g OK /m);
    return quoted(answer.split('\r\n')[0]!)[0]!;
  }

  async function fetchUrl(client: LineClient, url: string): Promise<string> {
    return fetchArgs(client, `"${url}"`);
  }

  /** URLFETCH with these arguments; the untagged responses (as latin1 text). */
  async function fetchArgs(client: LineClient, args: string): Promise<string> {
    const answer = await client.command('u', `URLFETCH ${args}`);
    expect(answer).toMatch(/^u OK URLFETCH completed/m);
    return answer.slice(0, answer.lastIndexOf('u OK'));
  }

  it('is advertised once logged in, with URL-PARTIAL', async () => {
    const client = await loggedIn(await newAccount(server));
    const capabilities = await client.command('c', 'CAPABILITY');
    expect(capabilities).toMatch(/^\* CAPABILITY .* URLAUTH( |\r\n)/m);
    expect(capabilities).toMatch(/^\* CAPABILITY .* URL-PARTIAL( |\r\n)/m);
  });

  it("runs RFC 4467's example: two sections for Fred, fetched by Fred and by nobody else", async () => {
    const { joe, fred, joeClient, fredClient } = await joeAndFred();
    const fredAccess = `user+${encodeURIComponent(fred.username)}`;
    const rump2 = `${base(joe)}/;uid=1/;section=1.2;urlauth=${fredAccess}`;
    const rump3 = `${base(joe)}/;uid=1/;section=1.3;urlauth=${fredAccess}`;
    const answer = await joeClient.command('a001', `GENURLAUTH "${rump2}" INTERNAL "${rump3}" INTERNAL`);
    expect(answer).toMatch(/^a001 OK /m);
    const [url2, url3] = quoted(answer.split('\r\n')[0]!);
    expect(answer.split('\r\n')[0]).toMatch(/^\* GENURLAUTH "[^"]+" "[^"]+"$/);
    expect(url2).toMatch(
      new RegExp(`^${rump2.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:INTERNAL:[0-9a-f]{64}$`),
    );
    expect(url3!.startsWith(`${rump3}:INTERNAL:`)).toBe(true);
    // Fred gets both sections; the URL comes back as sent.
    const fetched = await fetchUrl(fredClient, `${url2}" "${url3}`);
    expect(fetched).toBe(
      `* URLFETCH "${url2}" {28}\r\nSi vis pacem, para bellum.\r\n "${url3}" {38}\r\nQui desiderat pacem, praeparet bellum.\r\n`,
    );
    // Joe himself is not Fred: NIL.
    expect(await fetchUrl(joeClient, url2!)).toBe(`* URLFETCH "${url2}" NIL\r\n`);
  });

  it('honours anonymous, authuser and PARTIAL; submit+ only for the submission server', async () => {
    const { joe, fred, joeClient, fredClient } = await joeAndFred();
    const anonymous = await generate(
      joeClient,
      `${base(joe)}/;UID=1/;SECTION=1.1/;PARTIAL=0.5;URLAUTH=anonymous`,
    );
    const authuser = await generate(
      joeClient,
      `${base(joe)}/;UID=1/;SECTION=1.2/;PARTIAL=4;URLAUTH=authuser`,
    );
    const submit = await generate(
      joeClient,
      `${base(joe)}/;UID=1/;SECTION=1.2;URLAUTH=submit+${encodeURIComponent(fred.username)}`,
    );
    expect(await fetchUrl(fredClient, anonymous)).toBe(`* URLFETCH "${anonymous}" {5}\r\nCover\r\n`);
    expect(await fetchUrl(joeClient, authuser)).toBe(
      `* URLFETCH "${authuser}" {24}\r\nis pacem, para bellum.\r\n\r\n`,
    );
    expect(await fetchUrl(fredClient, submit)).toBe(`* URLFETCH "${submit}" NIL\r\n`);
  });

  it('gives NIL for a wrong token, an expired URL, and after RESETKEY', async () => {
    const { joe, joeClient, fredClient } = await joeAndFred();
    const url = await generate(joeClient, `${base(joe)}/;UID=1/;SECTION=1.1;URLAUTH=authuser`);
    const past = await generate(
      joeClient,
      `${base(joe)}/;UID=1;EXPIRE=2001-01-01T00:00:00Z;URLAUTH=authuser`,
    );
    const future = await generate(
      joeClient,
      `${base(joe)}/;UID=1/;SECTION=1.1;EXPIRE=2099-01-01T00:00:00Z;URLAUTH=authuser`,
    );
    const wrong = url.slice(0, -1) + (url.endsWith('0') ? '1' : '0');
    const nil = (text: string) => `* URLFETCH "${text}" NIL\r\n`;
    expect(await fetchUrl(fredClient, url)).toBe(`* URLFETCH "${url}" {11}\r\nCover note.\r\n`);
    expect(await fetchUrl(fredClient, future)).toBe(`* URLFETCH "${future}" {11}\r\nCover note.\r\n`);
    expect(await fetchUrl(fredClient, wrong)).toBe(nil(wrong));
    expect(await fetchUrl(fredClient, past)).toBe(nil(past));
    expect(await fetchUrl(fredClient, 'not a url')).toBe(nil('not a url'));
    // A key reset stops every URL of the mailbox; a new GENURLAUTH gives another token.
    expect(await joeClient.command('r', 'RESETKEY INBOX INTERNAL')).toMatch(/^r OK /m);
    expect(await fetchUrl(fredClient, url)).toBe(nil(url));
    const again = await generate(joeClient, `${base(joe)}/;UID=1/;SECTION=1.1;URLAUTH=authuser`);
    expect(again).not.toBe(url);
    expect(await fetchUrl(fredClient, again)).toBe(`* URLFETCH "${again}" {11}\r\nCover note.\r\n`);
    expect(await joeClient.command('r', 'RESETKEY')).toMatch(/^r OK /m);
    expect(await fetchUrl(fredClient, again)).toBe(nil(again));
    // A deleted message: NIL.
    const gone = await generate(joeClient, `${base(joe)}/;UID=1;URLAUTH=authuser`);
    await joeClient.command('s', 'SELECT INBOX');
    await joeClient.command('d', 'STORE 1 +FLAGS (\\Deleted)');
    await joeClient.command('e', 'EXPUNGE');
    expect(await fetchUrl(fredClient, gone)).toBe(nil(gone));
  });

  it('generates only for rumps of the user’s own messages; RESETKEY checks its arguments', async () => {
    const { joe, fred, joeClient } = await joeAndFred();
    const refused = [
      `${base(fred)}/;UID=1;URLAUTH=anonymous`, // Fred's mailbox
      `${base(joe)}/;UID=1`, // no ;URLAUTH=
      `${base(joe)}/;UID=1;URLAUTH=anonymous:INTERNAL:00112233445566778899aabbccddeeff`, // not a rump
      `${base(joe)}/;UID=7;URLAUTH=anonymous`, // no such message
      `imap://${encodeURIComponent(joe.username)}@elsewhere.example/INBOX/;UID=1;URLAUTH=anonymous`,
      '/INBOX/;UID=1;URLAUTH=anonymous', // not absolute
    ];
    for (const rump of refused) {
      expect(await joeClient.command('g', `GENURLAUTH "${rump}" INTERNAL`), rump).toMatch(/^g NO \[BADURL /m);
    }
    expect(await joeClient.command('g', `GENURLAUTH "${base(joe)}/;UID=1;URLAUTH=anonymous" OTHER`)).toMatch(
      /^g NO .*mechanism/m,
    );
    expect(await joeClient.command('g', 'GENURLAUTH')).toMatch(/^g BAD /m);
    expect(await joeClient.command('r', 'RESETKEY Nope')).toMatch(/^r NO \[NONEXISTENT\]/m);
    expect(await joeClient.command('r', 'RESETKEY INBOX OTHER')).toMatch(/^r NO .*mechanism/m);
  });

  it("runs RFC 5524's example: BODYPARTSTRUCTURE and BINARY of a section for the submit role", async () => {
    const { joe, fred, joeClient, fredClient } = await joeAndFred();
    expect(await joeClient.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* URLAUTH=BINARY( |\r\n)/m);
    // RFC 5524 4: section 1.2 of Joe's message, for Fred's submission server; here for Fred himself.
    const url = await generate(
      joeClient,
      `${base(joe)}/;uid=1/;section=1.2;urlauth=user+${encodeURIComponent(fred.username)}`,
    );
    const structure = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 28 1 NIL NIL NIL NIL)';
    // The part's structure is the one inside the message's BODYSTRUCTURE.
    await joeClient.command('s', 'SELECT INBOX');
    expect(await joeClient.command('f', 'UID FETCH 1 BODYSTRUCTURE')).toContain(`)${structure}(`);
    expect(await fetchArgs(fredClient, `("${url}" BODYPARTSTRUCTURE) ("${url}" BINARY) ("${url}")`)).toBe(
      `* URLFETCH "${url}" (BODYPARTSTRUCTURE ${structure})` +
        ` "${url}" (BINARY {28}\r\nSi vis pacem, para bellum.\r\n)` +
        ` "${url}" (BODY {28}\r\nSi vis pacem, para bellum.\r\n)\r\n`,
    );
  });

  it('decodes BINARY as FETCH BINARY does, with PARTIAL on the decoded bytes, literal8 for NUL', async () => {
    const { joe, fred, joeClient, fredClient } = await joeAndFred();
    const inbox = (await server.server.store.getMailbox(joe.userId, 'INBOX'))!;
    await server.server.store.append(inbox.id, WITH_ATTACHMENT);
    const rump = (section: string) =>
      `${base(joe)}/;UID=2/;SECTION=${section};URLAUTH=user+${encodeURIComponent(fred.username)}`;
    const [text, file, partial, header] = await Promise.all(
      ['1', '2', '2/;PARTIAL=1.3', '2.MIME'].map((section) => generate(joeClient, rump(section))),
    );
    // The same decoding as FETCH BINARY in the owner's own session.
    await joeClient.command('s', 'SELECT INBOX');
    const fetched = await joeClient.command('f', 'UID FETCH 2 (BINARY[1] BINARY[2])');
    const cafe = Buffer.from('Café ou thé?', 'utf8');
    expect(fetched).toContain(`BINARY[1] {14}\r\n${cafe.toString('latin1')}`);
    expect(fetched).toContain(`BINARY[2] ~{7}\r\n${ATTACHMENT.toString('latin1')}`);
    const answer = await fetchArgs(
      fredClient,
      `("${text}" BINARY) ("${file}" BINARY BODYPARTSTRUCTURE) ("${partial}" BINARY) ("${header}" BINARY BODYPARTSTRUCTURE)`,
    );
    const mime =
      'Content-Type: application/octet-stream; name="f.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n';
    const fileStructure =
      '("application" "octet-stream" ("name" "f.bin") NIL NIL "base64" 7 NIL NIL NIL NIL)';
    expect(Buffer.from(answer, 'latin1')).toEqual(
      Buffer.concat([
        Buffer.from(`* URLFETCH "${text}" (BINARY {14}\r\n`),
        cafe,
        Buffer.from(`) "${file}" (BODYPARTSTRUCTURE ${fileStructure} BINARY ~{7}\r\n`),
        ATTACHMENT,
        Buffer.from(`) "${partial}" (BINARY {3}\r\n`),
        ATTACHMENT.subarray(1, 4),
        // A MIME section: the structure of its part, the header as stored.
        Buffer.from(
          `) "${header}" (BODYPARTSTRUCTURE ${fileStructure} BINARY {${mime.length}}\r\n${mime})\r\n`,
        ),
      ]),
    );
    // Not honoured: NIL whatever was asked; bad parameters: BAD.
    expect(await fetchArgs(joeClient, `("${file}" BINARY)`)).toBe(`* URLFETCH "${file}" NIL\r\n`);
    expect(await fredClient.command('u', `URLFETCH ("${file}" BODY BINARY)`)).toMatch(/^u BAD /m);
    expect(await fredClient.command('u', `URLFETCH ("${file}" BODYSTRUCTURE)`)).toMatch(/^u BAD /m);
  });

  it("appends with CATENATE from another user's message through a URLAUTH URL", async () => {
    const { joe, fred, joeClient, fredClient } = await joeAndFred();
    const url = await generate(
      joeClient,
      `${base(joe)}/;UID=1/;SECTION=1.2;URLAUTH=user+${encodeURIComponent(fred.username)}`,
    );
    const head = Buffer.from('Subject: quote\r\n\r\n');
    fredClient.send(
      Buffer.concat([
        Buffer.from(`c1 APPEND INBOX CATENATE (TEXT {${head.length}+}\r\n`),
        head,
        Buffer.from(` URL "${url}")\r\n`),
      ]),
    );
    expect(await fredClient.readUntil(/^c1 (OK|NO|BAD)/)).toMatch(/^c1 OK \[APPENDUID \d+ 1\]/m);
    // Without the authorization Joe's mailbox is out of Fred's reach.
    const plain = `${base(joe)}/;UID=1/;SECTION=1.2`;
    expect(await fredClient.command('c2', `APPEND INBOX CATENATE (URL "${plain}")`)).toMatch(
      /^c2 NO \[BADURL /m,
    );
    const inbox = (await server.server.store.getMailbox(fred.userId, 'INBOX'))!;
    const [message] = await server.server.store.listMessages(inbox.id);
    expect((await server.server.store.readBlob(message!.blobId)).toString()).toBe(
      'Subject: quote\r\n\r\nSi vis pacem, para bellum.\r\n',
    );
  });
});
