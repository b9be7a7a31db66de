/**
 * Two `mallard serve` processes on one MongoDB (the stand-in): a change through one reaches an
 * IDLE session on the other within a second (through the journal), and appends through both at
 * once get distinct, increasing UIDs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../server/store/types.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { LineClient } from '../helpers/server.ts';
import { addUser, openMongo, startServerProcess, type ServerProcess } from './support.ts';

let standIn: MongoStandIn;
let store: Store;
let a: ServerProcess;
let b: ServerProcess;

function message(subject: string): string {
  return `From: a@example.com\r\nTo: alice@example.com\r\nSubject: ${subject}\r\n\r\n${subject} body\r\n`;
}

async function login(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.readUntil(/^\* OK/);
  expect(await client.command('l', 'LOGIN alice@example.com secret-password')).toMatch(/^l OK/m);
  return client;
}

/** APPENDs and returns the UID from APPENDUID. */
async function append(client: LineClient, tag: string, text: string): Promise<number> {
  const bytes = Buffer.byteLength(text);
  const reply = await client.command(tag, `APPEND INBOX {${bytes}+}\r\n${text}`, 30_000);
  const match = new RegExp(`^${tag} OK \\[APPENDUID \\d+ (\\d+)\\]`, 'm').exec(reply);
  if (!match) throw new Error(`APPEND failed: ${reply}`);
  return Number(match[1]);
}

beforeAll(async () => {
  standIn = await startMongoStandIn();
  const uri = freshDatabaseUri(standIn.uri);
  store = await openMongo(uri);
  await addUser(store, 'alice@example.com', 'secret-password');
  [a, b] = await Promise.all([startServerProcess(uri), startServerProcess(uri)]);
}, 240_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await store?.close();
  await standIn?.stop();
});

describe('two server processes on one MongoDB', () => {
  it('an IDLE session on one sees an APPEND through the other within a second', async () => {
    const watcher = await login(a.imapPort);
    const writer = await login(b.imapPort);
    const selected = await watcher.command('s', 'SELECT INBOX');
    const exists = Number(/^\* (\d+) EXISTS/m.exec(selected)![1]);
    watcher.send('i IDLE\r\n');
    await watcher.readUntil(/^\+ /);
    const delays: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const uid = await append(writer, `w${round}`, message(`idle ${round}`));
      const acknowledged = Date.now();
      await watcher.readUntil(new RegExp(`^\\* ${exists + round} EXISTS`), 5000);
      delays.push(Date.now() - acknowledged);
      expect(uid).toBeGreaterThan(0);
    }
    // Flags set through the other process arrive as well.
    expect(await writer.command('f', 'SELECT INBOX')).toMatch(/^f OK/m);
    await writer.command('g', `STORE ${exists + 1} +FLAGS (\\Flagged)`);
    const flagged = Date.now();
    await watcher.readUntil(/^\* \d+ FETCH \(.*\\Flagged/, 5000);
    delays.push(Date.now() - flagged);
    watcher.send('DONE\r\n');
    await watcher.readUntil(/^i OK/);
    console.log(`IDLE notification delays across processes (ms): ${delays.join(', ')}`);
    for (const delay of delays) expect(delay).toBeLessThan(1000);
    watcher.close();
    writer.close();
  }, 120_000);

  it('concurrent appends through both processes get distinct, increasing UIDs', async () => {
    const clients = [
      await login(a.imapPort),
      await login(a.imapPort),
      await login(b.imapPort),
      await login(b.imapPort),
    ];
    const perClient = 8;
    const results = await Promise.all(
      clients.map(async (client, index) => {
        const uids: number[] = [];
        for (let i = 0; i < perClient; i++)
          uids.push(await append(client, `c${index}x${i}`, message(`c${index} ${i}`)));
        return uids;
      }),
    );
    for (const uids of results) {
      // Each connection's own appends come out in increasing order.
      expect(uids).toEqual([...uids].sort((x, y) => x - y));
    }
    const all = results.flat();
    expect(new Set(all).size).toBe(all.length);
    const inbox = (await store.getMailbox(
      (await store.getUserByUsername('alice@example.com'))!.id,
      'INBOX',
    ))!;
    const stored = (await store.listMessages(inbox.id)).map((m) => m.uid);
    for (const uid of all) expect(stored).toContain(uid);
    expect(stored).toEqual([...new Set(stored)].sort((x, y) => x - y));
    expect(inbox.uidNext).toBeGreaterThan(Math.max(...all));
    for (const client of clients) client.close();
  }, 180_000);

  it('QRESYNC: an expunge through one reaches the other as VANISHED, and a reselect resyncs', async () => {
    const watcher = await login(a.imapPort);
    const writer = await login(b.imapPort);
    const uids: number[] = [];
    for (let i = 0; i < 4; i++) uids.push(await append(writer, `q${i}`, message(`qresync ${i}`)));
    expect(await watcher.command('e', 'ENABLE QRESYNC')).toMatch(/^\* ENABLED QRESYNC/m);
    const selected = await watcher.command('s', 'SELECT INBOX');
    const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(selected)![1]);
    const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(selected)![1]);
    watcher.send('i IDLE\r\n');
    await watcher.readUntil(/^\+ /);
    await writer.command('f', 'SELECT INBOX');
    await writer.command('g', `UID STORE ${uids[0]},${uids[2]} +FLAGS.SILENT (\\Deleted)`);
    await writer.command('h', `UID EXPUNGE ${uids[0]},${uids[2]}`);
    await writer.command('j', `UID STORE ${uids[3]} +FLAGS.SILENT (\\Flagged)`);
    expect(await watcher.readUntil(/^\* VANISHED /, 5000)).toMatch(
      new RegExp(`^\\* VANISHED ${uids[0]},${uids[2]}\r\n`, 'm'),
    );
    watcher.send('DONE\r\n');
    await watcher.readUntil(/^i OK/);
    // A client that last saw `modseq` reselects on the other process: only the changes travel.
    expect(await writer.command('w', 'ENABLE QRESYNC')).toMatch(/^w OK/m);
    const resync = await writer.command('k', `SELECT INBOX (QRESYNC (${uidValidity} ${modseq}))`);
    expect(resync).toMatch(/^\* OK \[CLOSED\]/m);
    expect(resync).toMatch(new RegExp(`^\\* VANISHED \\(EARLIER\\) ${uids[0]},${uids[2]}\r\n`, 'm'));
    expect(resync).toMatch(
      new RegExp(`^\\* \\d+ FETCH \\(UID ${uids[3]} FLAGS \\(\\\\Flagged\\) MODSEQ`, 'm'),
    );
    watcher.close();
    writer.close();
  }, 120_000);
});
