/**
 * THREADID (RFC 8474 5.2) over real TCP on both store engines, checked against the server's own
 * THREAD=REFERENCES (RFC 5256): the messages of one THREAD group share one THREADID and groups
 * differ; a reply APPENDed later, in this mailbox or another, joins its thread; COPY and MOVE keep
 * the id; SEARCH THREADID finds the thread; and the ids are the same after a restart.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

function mail(day: number, subject: string, headers: string[] = []): Buffer {
  return Buffer.from(
    [
      'From: a@example.org',
      `Subject: ${subject}`,
      `Date: ${day} Jan 2025 10:00:00 +0000`,
      ...headers,
      '',
      'body',
      '',
    ].join('\r\n'),
  );
}

/** The corpus of test/imap/thread.test.ts: links, a dummy parent, subject grouping, a loop. */
const BOX = [
  mail(1, 'Plans', ['Message-ID: <1@x>']),
  mail(2, 'Re: Plans', ['Message-ID: <2@x>', 'In-Reply-To: <1@x>']),
  mail(3, 'Re: Plans', ['Message-ID: <3@x>', 'References: <1@x>\r\n <2@x>']),
  mail(4, 'Re: Plans', ['Message-ID: <4@x>', 'References: <1@x>']),
  mail(5, 'Re: Trip', ['Message-ID: <5@x>', 'References: <gone@x>']),
  mail(6, 'Trip', ['Message-ID: <6@x>', 'References: <gone@x>']),
  mail(7, 'Re: Plans', ['Message-ID: <7@x>']),
  mail(8, 'Lonely'),
  mail(9, 'Loop', ['Message-ID: <9@x>', 'References: <10@x>']),
  mail(10, 'Re: Loop', ['Message-ID: <10@x>', 'References: <9@x>']),
  mail(11, 'Budget', ['Message-ID: <11@x>']),
];

/** `tag APPEND mailbox {n+}` and the bytes (LITERAL+), answered with the tagged line. */
async function append(client: LineClient, tag: string, mailbox: string, raw: Buffer): Promise<string> {
  client.send(
    Buffer.concat([Buffer.from(`${tag} APPEND ${mailbox} {${raw.length}+}\r\n`), raw, Buffer.from('\r\n')]),
  );
  return client.readUntil(new RegExp(`^${tag} `, 'm'));
}

/** The message numbers of each top-level thread of a `* THREAD` response. */
function threadGroups(response: string): number[][] {
  const line = /^\* THREAD (.*)\r\n/m.exec(response)?.[1] ?? '';
  const groups: number[][] = [];
  let depth = 0;
  for (const token of line.match(/\(|\)|\d+/g) ?? []) {
    if (token === '(') {
      if (depth++ === 0) groups.push([]);
    } else if (token === ')') depth--;
    else groups[groups.length - 1]!.push(Number(token));
  }
  return groups;
}

/** THREADID of each message (by sequence number or UID, as the command numbers them). */
async function threadIds(client: LineClient, command: string): Promise<Map<number, string>> {
  const response = await client.command('f', command);
  const ids = new Map<number, string>();
  for (const match of response.matchAll(/^\* (\d+) FETCH \((?:UID (\d+) )?THREADID \(([A-Za-z0-9_-]+)\)\)/gm))
    ids.set(Number(match[2] ?? match[1]), match[3]!);
  return ids;
}

/** Checks FETCH THREADID against THREAD REFERENCES in the selected mailbox; returns the groups' ids. */
async function expectConsistent(
  client: LineClient,
): Promise<{ groups: number[][]; ids: Map<number, string> }> {
  const groups = threadGroups(await client.command('t', 'THREAD REFERENCES UTF-8 ALL'));
  const ids = await threadIds(client, 'FETCH 1:* (THREADID)');
  expect(groups.flat().sort((a, b) => a - b)).toEqual([...ids.keys()].sort((a, b) => a - b));
  const perGroup = groups.map((group) => new Set(group.map((seq) => ids.get(seq))));
  for (const [i, set] of perGroup.entries()) expect(set.size, `thread ${groups[i]!.join(' ')}`).toBe(1);
  const distinct = new Set(perGroup.map((set) => [...set][0]));
  expect(distinct.size).toBe(groups.length);
  return { groups, ids };
}

describe.each(['sqlite', 'mongodb'] as const)('THREADID on %s', (engine) => {
  let server: TestServer;
  let mongo: MongoStandIn | null = null;
  let env: NodeJS.ProcessEnv;
  let account: Account;
  let client: LineClient;
  let before: Map<number, string>;

  beforeAll(async () => {
    env = {};
    if (engine === 'mongodb') {
      mongo = await startMongoStandIn();
      env.MALLARD_STORE_ENGINE = 'mongodb';
      env.MALLARD_STORE_MONGODB_URI = freshDatabaseUri(mongo.uri);
    }
    server = await startTestServer(env);
    account = await newAccount(server);
    client = await loggedIn(account);
    expect(await client.command('c', 'CREATE Box')).toMatch(/^c OK/m);
    for (const [i, raw] of BOX.entries()) expect(await append(client, `a${i}`, 'Box', raw)).toMatch(/ OK /);
    expect(await client.command('s', 'SELECT Box')).toMatch(/^s OK /m);
  }, 120_000);
  afterAll(async () => {
    closeClients();
    await server?.stop();
    await mongo?.stop();
  }, 60_000);

  it('gives the messages of one THREAD=REFERENCES group one THREADID, and other groups others', async () => {
    const { groups, ids } = await expectConsistent(client);
    expect(groups).toHaveLength(5); // Plans, Trip (a dummy parent), Lonely, Loop, Budget
    before = ids;
    for (const id of ids.values()) expect(id).toMatch(/^T[0-9a-f]{16}$/);
  });

  it('puts a reply APPENDed later, here or in another mailbox, in its thread', async () => {
    const plans = before.get(1)!;
    expect(
      await append(
        client,
        'r1',
        'Box',
        mail(12, 'Re: Plans', ['Message-ID: <12@x>', 'References: <1@x> <3@x>']),
      ),
    ).toMatch(/OK/);
    expect(
      await append(
        client,
        'r2',
        'Archive',
        mail(13, 'Re: Budget', ['Message-ID: <13@x>', 'In-Reply-To: <11@x>']),
      ),
    ).toMatch(/OK/);
    await client.command('n', 'NOOP');
    const { ids } = await expectConsistent(client);
    expect(ids.get(12)).toBe(plans);
    const other = await loggedIn(account);
    await other.command('s', 'EXAMINE Archive');
    expect((await threadIds(other, 'FETCH 1 (THREADID)')).get(1)).toBe(before.get(11));
    other.close();
  });

  it('finds a thread with SEARCH THREADID', async () => {
    expect(await client.command('q', `SEARCH THREADID ${before.get(5)!}`)).toMatch(/^\* SEARCH 5 6\r\n/m);
    expect(await client.command('q', `UID SEARCH THREADID ${before.get(1)!}`)).toMatch(
      /^\* SEARCH 1 2 3 4 7 12\r\n/m,
    );
    expect(await client.command('q', 'SEARCH THREADID Tnothing')).toMatch(/^\* SEARCH\r\n/m);
    expect(
      await client.command('q', `SEARCH NOT THREADID ${before.get(1)!} THREADID ${before.get(9)!}`),
    ).toMatch(/^\* SEARCH 9 10\r\n/m);
  });

  it('keeps the THREADID through COPY and MOVE', async () => {
    expect(await client.command('c', 'CREATE Kept')).toMatch(/^c OK/m);
    expect(await client.command('c1', 'UID COPY 1:4 Kept')).toMatch(/^c1 OK/m);
    expect(await client.command('m1', 'UID MOVE 5 Kept')).toMatch(/^m1 OK/m);
    const other = await loggedIn(account);
    await other.command('s', 'EXAMINE Kept');
    const kept = await threadIds(other, 'FETCH 1:* (THREADID)');
    expect([...kept.values()]).toEqual([1, 1, 1, 1, 5].map((seq) => before.get(seq)));
    other.close();
  });

  it('answers the same THREADIDs after a restart', async () => {
    const ids = await threadIds(client, 'UID FETCH 1:* (UID THREADID)');
    closeClients();
    await server.server.stop();
    const dataDir = server.config.data_dir;
    const restarted = await startTestServer({ ...env, MALLARD_DATA_DIR: dataDir });
    const stopRestarted = restarted.stop;
    // The first server's stop removes the data directory; the restarted one made an unused one.
    server = {
      ...restarted,
      stop: async () => {
        await stopRestarted();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
    client = await loggedIn({ ...account, server });
    expect(await client.command('s', 'SELECT Box')).toMatch(/^s OK /m);
    expect(await threadIds(client, 'UID FETCH 1:* (UID THREADID)')).toEqual(ids);
    await expectConsistent(client);
  }, 120_000);
});
