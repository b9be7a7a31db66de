/**
 * Transcripts for METADATA and METADATA-SERVER (RFC 5464), with the RFC's own examples (section 4)
 * replayed against a server on each store engine (the embedded one and the MongoDB stand-in).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, newAccount } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

describe.each(['sqlite', 'mongodb'] as const)('METADATA (RFC 5464) on %s', (engine) => {
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
  afterEach(() => closeClients());
  afterAll(async () => {
    await server?.stop();
    await mongo?.stop();
  }, 60_000);

  async function client(): Promise<LineClient> {
    return loggedIn(await newAccount(server));
  }

  /** Sends a command with a synchronizing literal: waits for the continuation before the rest. */
  async function withLiteral(
    c: LineClient,
    tag: string,
    head: string,
    literal: Buffer,
    tail: string,
  ): Promise<string> {
    c.send(`${tag} ${head}{${literal.length}}\r\n`);
    await c.readUntil(/^\+ /);
    c.send(Buffer.concat([literal, Buffer.from(`${tail}\r\n`)]));
    return c.readUntil(new RegExp(`^${tag} (OK|NO|BAD)`));
  }

  it('advertises METADATA and METADATA-SERVER', async () => {
    const c = await client();
    expect(await c.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* METADATA METADATA-SERVER[ \r]/m);
  });

  it('sets and reads server and mailbox entries as in the RFC examples (4.2, 4.3)', async () => {
    const c = await client();
    expect(await c.command('a', 'SETMETADATA "" (/shared/comment "Shared comment")')).toBe(
      'a OK SETMETADATA completed\r\n',
    );
    expect(await c.command('b', 'GETMETADATA "" /shared/comment')).toBe(
      '* METADATA "" (/shared/comment "Shared comment")\r\nb OK GETMETADATA completed\r\n',
    );
    // 4.3: a value across two lines, as a synchronizing literal.
    const comment = Buffer.from('My new comment across\r\ntwo lines.');
    expect(await withLiteral(c, 'c', 'SETMETADATA INBOX (/private/comment ', comment, ')')).toBe(
      'c OK SETMETADATA completed\r\n',
    );
    await c.command('d', 'SETMETADATA INBOX (/shared/comment "Shared comment")');
    expect(await c.command('e', 'GETMETADATA "INBOX" (/shared/comment /private/comment)')).toBe(
      `* METADATA INBOX (/shared/comment "Shared comment" /private/comment {${comment.length}}\r\n` +
        `${comment.toString()})\r\ne OK GETMETADATA completed\r\n`,
    );
    // Entry names are case-insensitive; NIL removes an entry, and a missing entry reads as NIL.
    expect(await c.command('f', 'SETMETADATA INBOX (/Private/Comment NIL)')).toBe(
      'f OK SETMETADATA completed\r\n',
    );
    expect(await c.command('g', 'GETMETADATA INBOX (/private/comment /private/never)')).toBe(
      '* METADATA INBOX (/private/comment NIL /private/never NIL)\r\ng OK GETMETADATA completed\r\n',
    );
    // The server's entries and INBOX's are apart.
    expect(await c.command('h', 'GETMETADATA "" /private/comment')).toBe(
      '* METADATA "" (/private/comment NIL)\r\nh OK GETMETADATA completed\r\n',
    );
  });

  it('leaves out values over MAXSIZE with [METADATA LONGENTRIES n] (4.2.1)', async () => {
    const c = await client();
    const big = Buffer.from('x'.repeat(2199));
    await withLiteral(
      c,
      'a',
      'SETMETADATA INBOX (/shared/comment ',
      big,
      ' /private/comment "My own comment")',
    );
    const expected =
      '* METADATA INBOX (/private/comment "My own comment")\r\n' +
      'X OK [METADATA LONGENTRIES 2199] GETMETADATA completed\r\n';
    // The grammar puts the options before the mailbox, the RFC's examples after it: both work.
    expect(await c.command('X', 'GETMETADATA (MAXSIZE 1024) INBOX (/shared/comment /private/comment)')).toBe(
      expected,
    );
    expect(await c.command('X', 'GETMETADATA INBOX (MAXSIZE 1024) (/shared/comment /private/comment)')).toBe(
      expected,
    );
    expect(await c.command('b', 'GETMETADATA (MAXSIZE 3000) INBOX /shared/comment')).toMatch(
      /^\* METADATA INBOX \(\/shared\/comment \{2199\}\r\nx{2199}\)\r\nb OK GETMETADATA completed\r\n$/,
    );
  });

  it('answers DEPTH 0, 1 and infinity (4.2.2)', async () => {
    const c = await client();
    await c.command(
      'a',
      'SETMETADATA INBOX (/private/filters/values/small "SMALLER THAN 10K" ' +
        '/private/filters/values/big "BIGGER THAN 10K" /private/filters/values/big/deep "deeper" ' +
        '/private/filtersx "sibling")',
    );
    expect(await c.command('b', 'GETMETADATA INBOX (DEPTH 1) (/private/filters/values)')).toBe(
      '* METADATA INBOX (/private/filters/values/big "BIGGER THAN 10K" ' +
        '/private/filters/values/small "SMALLER THAN 10K")\r\nb OK GETMETADATA completed\r\n',
    );
    expect(await c.command('c', 'GETMETADATA (DEPTH infinity) INBOX /private/filters')).toBe(
      '* METADATA INBOX (/private/filters/values/big "BIGGER THAN 10K" ' +
        '/private/filters/values/big/deep "deeper" /private/filters/values/small "SMALLER THAN 10K")\r\n' +
        'c OK GETMETADATA completed\r\n',
    );
    expect(await c.command('d', 'GETMETADATA (DEPTH 0) INBOX /private/filters/values')).toBe(
      '* METADATA INBOX (/private/filters/values NIL)\r\nd OK GETMETADATA completed\r\n',
    );
    // Nothing below and nothing there: no METADATA line at all.
    expect(await c.command('e', 'GETMETADATA (DEPTH 1) INBOX /private/none')).toBe(
      'e OK GETMETADATA completed\r\n',
    );
  });

  it('keeps values binary-safe: NUL bytes come back as literal8', async () => {
    const c = await client();
    const value = Buffer.from([0x00, 0x01, 0x0d, 0x0a, 0xff, 0x41]);
    c.send(
      Buffer.concat([
        Buffer.from(`a SETMETADATA Sent (/private/vendor/test/blob ~{${value.length}+}\r\n`),
        value,
        Buffer.from(')\r\n'),
      ]),
    );
    expect(await c.readUntil(/^a (OK|NO|BAD)/)).toBe('a OK SETMETADATA completed\r\n');
    expect(await c.command('b', 'GETMETADATA Sent /private/vendor/test/blob')).toBe(
      `* METADATA "Sent" (/private/vendor/test/blob ~{6}\r\n${value.toString('latin1')})\r\nb OK GETMETADATA completed\r\n`,
    );
  });

  it('refuses values over the size limit and entries past the count limit, changing nothing', async () => {
    const c = await client();
    const big = Buffer.alloc(64 * 1024 + 1, 0x61);
    expect(await withLiteral(c, 'a', 'SETMETADATA INBOX (/private/comment ', big, ')')).toMatch(
      /^a NO \[METADATA MAXSIZE 65536\] /m,
    );
    const many = Array.from({ length: 100 }, (_, i) => `/private/n${i} "v"`).join(' ');
    expect(await c.command('b', `SETMETADATA INBOX (${many})`)).toBe('b OK SETMETADATA completed\r\n');
    expect(
      await c.command('c', 'SETMETADATA INBOX (/private/one-more "v" /private/n0 NIL /private/n1 "w")'),
    ).toBe('c OK SETMETADATA completed\r\n');
    expect(await c.command('d', 'SETMETADATA INBOX (/private/n2 NIL /private/x "v" /private/y "v")')).toMatch(
      /^d NO \[METADATA TOOMANY\] /m,
    );
    // All or nothing: n2 is still there, x is not.
    expect(await c.command('e', 'GETMETADATA INBOX (/private/n2 /private/x)')).toBe(
      '* METADATA INBOX (/private/n2 "v" /private/x NIL)\r\ne OK GETMETADATA completed\r\n',
    );
    // Each mailbox (and the server) has its own count.
    expect(await c.command('f', 'SETMETADATA Sent (/private/x "v")')).toBe('f OK SETMETADATA completed\r\n');
  });

  it('says what is wrong with a bad entry name, mailbox or syntax', async () => {
    const c = await client();
    expect(await c.command('a', 'SETMETADATA INBOX (/comment "x")')).toMatch(
      /^a BAD Invalid entry name \/comment/m,
    );
    expect(await c.command('b', 'SETMETADATA INBOX (/private/a//b "x")')).toMatch(
      /^b BAD Invalid entry name/m,
    );
    expect(await c.command('c', 'GETMETADATA INBOX "/private/*"')).toMatch(/^c BAD Invalid entry name/m);
    expect(await c.command('d', 'SETMETADATA INBOX (/private/ "x")')).toMatch(/^d BAD Invalid entry name/m);
    expect(await c.command('e', 'SETMETADATA INBOX (/private "x")')).toMatch(
      /^e BAD \/private is not an entry/m,
    );
    expect(await c.command('f', 'GETMETADATA Nowhere /private/comment')).toMatch(/^f NO \[NONEXISTENT\] /m);
    expect(await c.command('g', 'SETMETADATA Nowhere (/private/comment "x")')).toMatch(
      /^g NO \[NONEXISTENT\] /m,
    );
    expect(await c.command('h', 'GETMETADATA (DEPTH 2) INBOX /private/comment')).toMatch(/^h BAD .*DEPTH/m);
    expect(await c.command('i', 'GETMETADATA (COLOR red) INBOX /private/comment')).toMatch(/^i BAD .*COLOR/m);
    expect(await c.command('j', 'SETMETADATA INBOX ()')).toMatch(/^j BAD /m);
    expect(await c.command('k', 'GETMETADATA INBOX')).toMatch(/^k BAD /m);
    // The session goes on.
    expect(await c.command('l', 'NOOP')).toBe('l OK NOOP completed\r\n');
  });

  it('moves entries with RENAME and drops them with DELETE', async () => {
    const c = await client();
    await c.command('a', 'CREATE Projects/Old');
    await c.command('b', 'SETMETADATA Projects/Old (/private/comment "kept")');
    expect(await c.command('c', 'RENAME Projects Work')).toMatch(/^c OK /m);
    expect(await c.command('d', 'GETMETADATA Work/Old /private/comment')).toBe(
      '* METADATA "Work/Old" (/private/comment "kept")\r\nd OK GETMETADATA completed\r\n',
    );
    expect(await c.command('e', 'DELETE Work/Old')).toMatch(/^e OK /m);
    await c.command('f', 'CREATE Work/Old');
    expect(await c.command('g', 'GETMETADATA Work/Old /private/comment')).toBe(
      '* METADATA "Work/Old" (/private/comment NIL)\r\ng OK GETMETADATA completed\r\n',
    );
  });

  it('is refused before login', async () => {
    const c = await (await import('../helpers/server.ts')).LineClient.connect(server.imapPort);
    await c.readUntil(/^\* OK/);
    expect(await c.command('a', 'GETMETADATA "" /shared/comment')).toMatch(/^a BAD /m);
    c.socket.destroy();
  });
});
