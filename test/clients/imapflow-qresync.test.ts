/**
 * A real client resyncing with QRESYNC: imapflow with `qresync: true` reopens a mailbox whose flags
 * changed and messages were expunged elsewhere, and learns exactly those changes from the SELECT.
 * The bytes exchanged after login (counted on the socket, through a byte-counting TCP relay, so
 * as sent: imapflow turns on COMPRESS=DEFLATE) are set beside a full resync, which fetches every
 * message's flags again.
 */
import net from 'node:net';
import { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { mailboxWith, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MESSAGES = 1000;

let server: TestServer;
let relay: net.Server;
let relayPort = 0;
/** Bytes through the relay, both ways, since the last reset. */
let bytes = 0;
const clients = new Set<ImapFlow>();

beforeAll(async () => {
  server = await startTestServer();
  relay = net.createServer((downstream) => {
    const upstream = net.connect(server.imapPort, '127.0.0.1');
    downstream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    upstream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    downstream.pipe(upstream).pipe(downstream);
    const end = () => {
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  relayPort = (relay.address() as net.AddressInfo).port;
});
afterEach(() => {
  for (const client of clients) client.close();
  clients.clear();
});
afterAll(async () => {
  await new Promise((resolve) => relay.close(resolve));
  await server.stop();
});

async function connect(account: Account): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: relayPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user: account.username, pass: account.password },
    logger: false,
    disableAutoIdle: true,
    qresync: true,
  });
  clients.add(client);
  await client.connect();
  return client;
}

it('imapflow resyncs with QRESYNC: only the changes travel', async () => {
  const account = await newAccount(server);
  const box = await mailboxWith(
    account,
    'Box',
    Array.from({ length: MESSAGES }, () => []),
  );
  const { store } = server.server;

  // First visit: a full sync, then the client keeps UIDVALIDITY and HIGHESTMODSEQ.
  const first = await connect(account);
  const opened = await first.mailboxOpen('Box');
  expect(first.enabled.has('QRESYNC')).toBe(true);
  let cached = 0;
  for await (const message of first.fetch('1:*', { uid: true, flags: true })) if (message.flags) cached++;
  expect(cached).toBe(MESSAGES);
  const uidValidity = opened.uidValidity;
  const highestModseq = opened.highestModseq!;
  await first.logout();

  // Meanwhile, elsewhere: flags change on 5 messages, 5 others are expunged.
  await store.storeFlags(box.id, [10, 20, 30, 40, 50], 'add', ['\\Seen']);
  await store.deleteMessages(box.id, [3, 100, 101, 102, 250]);

  // The resync: the SELECT itself says what vanished and what changed.
  const client = await connect(account);
  bytes = 0;
  const vanished: number[] = [];
  const flagged = new Map<number, string[]>();
  client.on('expunge', (event: { uid?: number; vanished?: boolean }) => {
    if (event.vanished && event.uid !== undefined) vanished.push(event.uid);
  });
  client.on('flags', (event: { uid?: number; flags: Set<string> }) => {
    if (event.uid !== undefined) flagged.set(event.uid, [...event.flags]);
  });
  const reopened = await client.mailboxOpen('Box', { uidValidity, changedSince: highestModseq });
  expect(reopened.exists).toBe(MESSAGES - 5);
  const qresyncBytes = bytes;
  await client.logout();
  expect(vanished.sort((a, b) => a - b)).toEqual([3, 100, 101, 102, 250]);
  expect([...flagged.keys()].sort((a, b) => a - b)).toEqual([10, 20, 30, 40, 50]);
  for (const flags of flagged.values()) expect(flags).toEqual(['\\Seen']);

  // A full resync of the same state: every message's flags again.
  const full = await connect(account);
  bytes = 0;
  await full.mailboxOpen('Box');
  let fetched = 0;
  for await (const message of full.fetch('1:*', { uid: true, flags: true })) if (message.uid) fetched++;
  expect(fetched).toBe(MESSAGES - 5);
  const fullBytes = bytes;
  await full.logout();

  console.log(
    `imapflow resync of ${MESSAGES} messages after 5 flag changes and 5 expunges: ` +
      `QRESYNC ${qresyncBytes} bytes, full resync ${fullBytes} bytes (SELECT and FETCH after login, as sent: imapflow compresses)`,
  );
  expect(qresyncBytes).toBeLessThan(fullBytes / 3);
});
