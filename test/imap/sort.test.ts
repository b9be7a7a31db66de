/**
 * Transcripts for SORT and UID SORT (RFC 5256, SORT=DISPLAY RFC 5957) over real TCP against a real
 * server, on both store engines: each key and REVERSE over a mailbox with encoded subjects and
 * names, "Re:"/"Fwd:"/"(fwd)"/"[list]" subjects, a broken and a missing Date, a missing Subject;
 * the RFC's own examples' shapes; charsets and bad sort programs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { closeClients, loggedIn, newAccount, rawMessage, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

/** A message from header lines and a body of `bodySize` bytes. */
function mail(headers: string[], bodySize: number): Buffer {
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${'x'.repeat(bodySize)}\r\n`);
}

/** Sequence numbers 1..6; bodies a thousand bytes apart make the SIZE order plain. */
const BOX = [
  mail(
    [
      'From: Zed <zed@b.example>',
      'To: bob@x.example',
      'Subject: Re: Lunch',
      'Date: Fri, 03 Jan 2025 10:00:00 +0000',
    ],
    4000,
  ),
  mail(
    [
      'From: Anna <anna@a.example>',
      'To: Al <al@x.example>',
      'Subject: =?UTF-8?Q?=C3=A9t=C3=A9?=',
      'Date: yesterday',
    ],
    1000,
  ),
  mail(
    ['From: =?UTF-8?Q?=C3=81lvaro?= <al@c.example>', 'To: carol@x.example', 'Subject: [list] lunch'],
    3000,
  ),
  mail(
    [
      'From: bob@b.example',
      'To: zoe@x.example',
      'Cc: dave@x.example',
      'Date: Wed, 01 Jan 2025 10:00:00 +0000',
    ],
    6000,
  ),
  mail(
    [
      'From: Carol <carol@c.example>',
      'To: =?UTF-8?Q?Zo=C3=AB?= <zoe@x.example>',
      'Cc: aaron@x.example',
      'Subject: Fwd: Re: Apples (fwd)',
      'Date: Thu, 02 Jan 2025 10:00:00 +0000',
    ],
    2000,
  ),
  mail(
    [
      'From: Dan <dan@d.example>',
      'To: bob@x.example',
      'Subject: apples',
      'Date: Sat, 04 Jan 2025 10:00:00 +0000',
    ],
    5000,
  ),
];

describe.each(['sqlite', 'mongodb'] as const)('SORT on %s', (engine) => {
  let server: TestServer;
  let mongo: MongoStandIn | null = null;
  let client: LineClient;
  let account: Account;

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = {};
    if (engine === 'mongodb') {
      mongo = await startMongoStandIn();
      env.MALLARD_STORE_ENGINE = 'mongodb';
      env.MALLARD_STORE_MONGODB_URI = freshDatabaseUri(mongo.uri);
    }
    server = await startTestServer(env);
    account = await newAccount(server);
    const { store } = server.server;
    const mailbox = await store.createMailbox(account.userId, 'Box');
    // UID 1 is expunged, so that UIDs (2..7) and sequence numbers (1..6) differ.
    await store.append(mailbox.id, Buffer.from('Subject: gone\r\n\r\ngone\r\n'));
    await store.deleteMessages(mailbox.id, [1]);
    for (const [i, raw] of BOX.entries()) {
      await store.append(mailbox.id, raw, { internalDate: new Date(Date.UTC(2025, 5, i + 1, 12)) });
    }
    client = await loggedIn(account);
    expect(await client.command('S', 'SELECT Box')).toMatch(/^S OK /m);
  });
  afterAll(async () => {
    closeClients();
    await server?.stop();
    await mongo?.stop();
  });

  async function expectSort(command: string, expected: string): Promise<void> {
    const uid = command.startsWith('UID ');
    expect(await client.command('t', command), command).toBe(
      `* SORT${expected ? ` ${expected}` : ''}\r\nt OK ${uid ? 'UID ' : ''}SORT completed\r\n`,
    );
  }

  it('advertises SORT, SORT=DISPLAY and ESORT', async () => {
    expect(await client.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* SORT SORT=DISPLAY ESORT /m);
  });

  it.each([
    ['ARRIVAL', '1 2 3 4 5 6'],
    ['REVERSE ARRIVAL', '6 5 4 3 2 1'],
    // A broken (2) or missing (3) Date sorts by the internal date (June), after the January ones.
    ['DATE', '4 5 1 6 2 3'],
    ['REVERSE DATE', '3 2 6 1 5 4'],
    // "" (none) < APPLES (5 "Fwd: Re: Apples (fwd)", 6) < ÉTÉ < LUNCH (1 "Re: Lunch", 3 "[list] lunch").
    ['SUBJECT', '4 5 6 2 1 3'],
    ['SUBJECT REVERSE DATE', '4 6 5 2 3 1'],
    ['REVERSE SUBJECT', '1 3 2 5 6 4'],
    ['FROM', '3 2 4 5 6 1'],
    ['TO', '2 1 6 3 4 5'],
    ['CC', '1 2 3 6 5 4'],
    ['REVERSE CC', '4 5 1 2 3 6'],
    ['SIZE', '2 5 3 1 6 4'],
    ['REVERSE SIZE', '4 6 1 3 5 2'],
    // Names decoded; "Álvaro" is A + a combining accent, after "ANNA@…"; bob has no name.
    ['DISPLAYFROM', '2 3 4 5 6 1'],
    ['DISPLAYTO', '2 1 6 3 4 5'],
  ])('SORT (%s)', async (program, expected) => {
    await expectSort(`SORT (${program}) UTF-8 ALL`, expected);
  });

  it('answers UID SORT with UIDs and sorts only what the search matches', async () => {
    await expectSort('UID SORT (SIZE) UTF-8 ALL', '3 6 4 2 7 5');
    await expectSort('SORT (SUBJECT) US-ASCII FROM "c.example"', '5 3');
    await expectSort('UID SORT (REVERSE ARRIVAL) UTF-8 2:4', '5 4 3');
    await expectSort('SORT (SUBJECT) US-ASCII TEXT "not in mailbox"', '');
    await expectSort('sort (subject reverse date) utf-8 all', '4 6 5 2 3 1');
  });

  it('answers ESORT (RFC 5267): MIN and MAX in sort order, ALL in sort order, SAVE keeps $', async () => {
    expect(await client.command('e1', 'SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL')).toBe(
      '* ESEARCH (TAG "e1") MIN 4 MAX 3 COUNT 6 ALL 4:6,2,1,3\r\ne1 OK SORT completed\r\n',
    );
    expect(await client.command('e2', 'UID SORT RETURN () (REVERSE SIZE) UTF-8 ALL')).toBe(
      '* ESEARCH (TAG "e2") UID ALL 5,7,2,4,6,3\r\ne2 OK UID SORT completed\r\n',
    );
    expect(await client.command('e3', 'SORT RETURN (COUNT) (DATE) UTF-8 TEXT "not in mailbox"')).toBe(
      '* ESEARCH (TAG "e3") COUNT 0\r\ne3 OK SORT completed\r\n',
    );
    expect(await client.command('e3', 'UID SORT RETURN (COUNT SAVE) (SUBJECT) UTF-8 ALL')).toBe(
      '* ESEARCH (TAG "e3") UID COUNT 6\r\ne3 OK UID SORT completed\r\n',
    );
    expect(await client.command('e3', 'SEARCH $')).toBe('* SEARCH 1 2 3 4 5 6\r\ne3 OK SEARCH completed\r\n');
    expect(await client.command('e4', 'SORT RETURN (SAVE) (DATE) UTF-8 FROM c.example')).toBe(
      'e4 OK SORT completed\r\n',
    );
    expect(await client.command('e5', 'SEARCH $')).toBe('* SEARCH 3 5\r\ne5 OK SEARCH completed\r\n');
    expect(await client.command('e6', 'SORT RETURN (MIN SAVE) (REVERSE DATE) UTF-8 ALL')).toBe(
      '* ESEARCH (TAG "e6") MIN 3\r\ne6 OK SORT completed\r\n',
    );
    expect(await client.command('e7', 'UID SEARCH $')).toBe('* SEARCH 4\r\ne7 OK UID SEARCH completed\r\n');
    expect(await client.command('e8', 'SORT RETURN (FOO) (DATE) UTF-8 ALL')).toMatch(/^e8 BAD /);
  });

  it('refuses other charsets and bad sort programs', async () => {
    expect(await client.command('t', 'SORT (SUBJECT) ISO-8859-1 ALL')).toMatch(
      /^t NO \[BADCHARSET \(UTF-8 US-ASCII\)\] /,
    );
    for (const bad of [
      'SORT (FOO) UTF-8 ALL',
      'SORT (REVERSE) UTF-8 ALL',
      'SORT () UTF-8 ALL',
      'SORT (DATE) UTF-8',
      'SORT DATE UTF-8 ALL',
      'SORT (REVERSE REVERSE DATE) UTF-8 ALL',
    ]) {
      expect(await client.command('t', bad), bad).toMatch(/^t BAD /);
    }
  });

  it('keeps sort keys across commands and sessions, and follows expunges and new messages', async () => {
    const { store } = server.server;
    const mailbox = await store.createMailbox(account.userId, 'Kept');
    for (const subject of ['b', 'c', 'a']) await store.append(mailbox.id, rawMessage(subject));
    const [first, second] = [await loggedIn(account), await loggedIn(account)];
    for (const session of [first, second])
      expect(await session.command('s', 'SELECT Kept')).toMatch(/^s OK /m);
    const sorted = async (session: LineClient, program: string): Promise<string> =>
      (await session.command('k', `${program} UTF-8 ALL`)).split('\r\n')[0]!;
    expect(await sorted(first, 'SORT (SUBJECT)')).toBe('* SORT 3 1 2');
    // The second session shares what the first one read; the same answer from its own numbers.
    expect(await sorted(second, 'UID SORT (REVERSE SUBJECT)')).toBe('* SORT 2 1 3');
    // Expunge "b" (UID 1) in the second session, deliver "0" (UID 4) from outside.
    expect(await second.command('x', 'UID STORE 1 +FLAGS.SILENT (\\Deleted)')).toMatch(/^x OK /m);
    expect(await second.command('x', 'EXPUNGE')).toMatch(/^\* 1 EXPUNGE\r\n/);
    await store.append(mailbox.id, rawMessage('0'));
    await expect
      .poll(async () => (await first.command('n', 'NOOP')) + (await sorted(first, 'UID SORT (SUBJECT)')), {
        timeout: 20_000,
      })
      .toMatch(/\* SORT 4 3 2$/);
    // Sequence numbers follow the expunge: "c" is 1, "a" 2, "0" 3.
    expect(await sorted(first, 'SORT (SUBJECT)')).toBe('* SORT 3 2 1');
    expect(await second.command('n', 'NOOP')).toMatch(/^\* 3 EXISTS\r\n/m);
    expect(await sorted(second, 'SORT (REVERSE SUBJECT)')).toBe('* SORT 1 2 3');
    // A value between the kept ones ("ab", UID 5) joins the mailbox's kept order for both sessions.
    await store.append(mailbox.id, rawMessage('ab'));
    for (const [session, program, expected] of [
      [second, 'UID SORT (REVERSE SUBJECT)', /\* SORT 2 5 3 4$/],
      [first, 'UID SORT (SUBJECT)', /\* SORT 4 3 5 2$/],
    ] as const) {
      await expect
        .poll(async () => (await session.command('n', 'NOOP')) + (await sorted(session, program)), {
          timeout: 20_000,
        })
        .toMatch(expected);
    }
  });
});
