/**
 * The store goes away under a sending `mallard serve` (the MongoDB stand-in is SIGKILLed) and
 * comes back on the same port and file: submission answers 451 4.3.0 meanwhile (at MAIL FROM and
 * at the end of DATA), a delivery whose remote 250 arrived during the outage is recorded once the
 * store is back (not sent twice), and the queue goes on by itself — no restart, no "retry now".
 * The receiving side is Debian's Postfix; the host that answers during the outage is a loopback
 * listener of the test that holds its reply to DATA until the store is down.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../server/store/types.ts';
import { SmtpLineClient } from '../delivery/clients.ts';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { freePort } from '../helpers/ports.ts';
import { startPostfix, type Postfix } from '../helpers/postfix.ts';
import { addUser, openMongo, startServerProcess, type ServerProcess } from '../mongodb/support.ts';

const MX_HOST = '127.0.0.12';
const HOLDING_HOST = '127.0.0.13';

let dir: string;
let standIn: MongoStandIn;
let uri: string;
let postfix: Postfix;
let dnsmasq: Dnsmasq;
let server: ServerProcess;
let submissionPort: number;

/**
 * An SMTP peer that takes one message and answers its DATA only when `release()` is called: the
 * remote 250 of a delivery can then be made to arrive while the store is away.
 */
async function startHoldingPeer(host: string, port: number) {
  let messages = 0;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let received: () => void = () => undefined;
  const gotMessage = new Promise<void>((resolve) => (received = resolve));
  const server = net.createServer((socket) => {
    let inData = false;
    let buffered = '';
    socket.on('error', () => undefined);
    socket.write('220 held.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buffered.indexOf('\r\n.\r\n');
          if (end < 0) return;
          buffered = buffered.slice(end + 5);
          inData = false;
          messages++;
          received();
          void released.then(() => socket.write('250 2.0.0 Ok: kept\r\n'));
          continue;
        }
        const end = buffered.indexOf('\r\n');
        if (end < 0) return;
        const verb = buffered.slice(0, 4).toUpperCase();
        buffered = buffered.slice(end + 2);
        if (verb === 'EHLO') socket.write('250-held.test\r\n250 8BITMIME\r\n');
        else if (verb === 'DATA') {
          inData = true;
          buffered = `\r\n${buffered}`; // so that an empty message still ends at "\r\n.\r\n"
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 2.0.0 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    gotMessage,
    release,
    get messages() {
      return messages;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function authenticated(): Promise<SmtpLineClient> {
  const { client } = await SmtpLineClient.connect(submissionPort);
  await client.command('EHLO client.test');
  const token = Buffer.from('\0alice@example.test\0secret').toString('base64');
  expect(await client.command(`AUTH PLAIN ${token}`)).toMatch(/^235 /);
  return client;
}

function message(to: string, subject: string): Buffer {
  return Buffer.from(
    `From: alice@example.test\r\nTo: ${to}\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${subject.replace(/\W/g, '')}@example.test>\r\n\r\n${subject}\r\n`,
  );
}

/** A command whose reply may take the store's selection timeout (a few seconds) to come. */
async function slowCommand(client: SmtpLineClient, line: string): Promise<string> {
  client.line.send(`${line}\r\n`);
  return client.reply(30_000);
}

async function until<T>(probe: () => Promise<T | null> | T | null, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-send-outage-'));
  standIn = await startMongoStandIn({ h2File: path.join(dir, 'mongo.h2') });
  uri = freshDatabaseUri(standIn.uri);
  const store: Store = await openMongo(uri);
  await addUser(store, 'alice@example.test', 'secret');
  await store.close();
  postfix = await startPostfix({ host: MX_HOST, mailboxes: ['rcpt@direct.test'] });
  dnsmasq = await startDnsmasq({
    zones: ['direct.test', 'held.test'],
    mx: [{ domain: 'direct.test', host: 'mx.direct.test', preference: 10 }],
    a: [
      { name: 'mx.direct.test', address: MX_HOST },
      { name: 'held.test', address: HOLDING_HOST },
    ],
  });
  submissionPort = await freePort();
  server = await startServerProcess(uri, {
    MALLARD_SUBMISSION_ENABLED: 'true',
    MALLARD_SUBMISSION_HOST: '127.0.0.1',
    MALLARD_SUBMISSION_PORT: String(submissionPort),
    MALLARD_WEB_ENABLED: 'false',
    MALLARD_MANAGESIEVE_ENABLED: 'false',
    MALLARD_SUBMISSION_TLS_PORT: '0',
    MALLARD_DNS_SERVERS: dnsmasq.server,
    MALLARD_OUTBOUND_MX_PORT: String(postfix.port),
    MALLARD_OUTBOUND_POLL_INTERVAL: '1',
    MALLARD_DKIM_ENABLED: 'false',
  });
  // The process is up once IMAP greets; submission starts a moment later.
  await until(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(submissionPort, '127.0.0.1', () => resolve(true));
        socket.once('error', () => resolve(false));
        socket.once('connect', () => socket.destroy());
      }),
    'submission to listen',
  );
}, 240_000);

afterAll(async () => {
  if (process.env.MALLARD_TEST_LOG) console.log(server?.output());
  await server?.stop();
  await standIn?.stop();
  await dnsmasq?.stop();
  await postfix?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('sending through a store outage', () => {
  it('answers 451 4.3.0 during the outage, records the answer it got meanwhile, and resumes by itself', async () => {
    const holder = await startHoldingPeer(HOLDING_HOST, postfix.port);
    try {
      // A delivery is under way when the store dies: its 250 comes during the outage.
      const first = await authenticated();
      expect(await first.command('MAIL FROM:<alice@example.test>')).toMatch(/^250 /);
      expect(await first.command('RCPT TO:<someone@held.test>')).toMatch(/^250 /);
      const [queuedReply] = await first.data(message('someone@held.test', 'held during outage'));
      const heldId = /queued as (\S+)/.exec(queuedReply ?? '')![1]!;
      await holder.gotMessage;
      // Sessions opened before the outage: one idle, one with its envelope given.
      const idle = await authenticated();
      const midway = await authenticated();
      expect(await midway.command('MAIL FROM:<alice@example.test>')).toMatch(/^250 /);
      expect(await midway.command('RCPT TO:<rcpt@direct.test>')).toMatch(/^250 /);

      await standIn.kill();
      holder.release();

      expect(await slowCommand(idle, 'MAIL FROM:<alice@example.test>')).toMatch(/^451 4\.3\.0 /);
      expect(await midway.command('DATA')).toMatch(/^354 /);
      midway.line.send('From: alice@example.test\r\nSubject: lost in transit\r\n\r\nx\r\n.\r\n');
      expect(await midway.reply(30_000)).toMatch(/^451 4\.3\.0 /);
      expect(server.child.exitCode).toBeNull();

      // The store returns on the same port and file; nobody touches the queue.
      standIn = await startMongoStandIn({ h2File: path.join(dir, 'mongo.h2'), port: standIn.port });
      const after = await until(async () => {
        const reply = await slowCommand(idle, 'MAIL FROM:<alice@example.test>');
        if (reply.startsWith('250')) return reply;
        await sleep(250);
        return null;
      }, 'submission to work again');
      expect(after).toMatch(/^250 /);
      expect(await idle.command('RCPT TO:<rcpt@direct.test>')).toMatch(/^250 /);
      const [again] = await idle.data(message('rcpt@direct.test', 'after the outage'));
      expect(again).toMatch(/^250 .*queued as /);
      await until(() => postfix.delivered('rcpt@direct.test')[0] ?? null, 'delivery after the outage');

      const store = await openMongo(uri);
      try {
        const held = await until(async () => {
          const entry = await store.getOutbound(heldId);
          return entry?.recipients[0]?.state === 'delivered' ? entry.recipients[0] : null;
        }, 'the held delivery to be recorded');
        expect(held.attempts).toBe(1);
      } finally {
        await store.close();
      }
      // The peer's 250 was recorded, not lost: the message was not sent a second time.
      expect(holder.messages).toBe(1);
      const arrived = postfix.delivered('rcpt@direct.test').map((raw) => raw.toString('latin1'));
      expect(arrived).toHaveLength(1);
      expect(arrived[0]).toMatch(/Subject: after the outage/);
      for (const client of [first, idle, midway]) client.close();
    } finally {
      await holder.close();
    }
  }, 240_000);
});
