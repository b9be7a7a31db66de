/**
 * The database dies under load and comes back: two `mallard serve` processes on one MongoDB (the
 * stand-in, SIGKILLed and restarted on the same file) while LMTP deliveries and IMAP APPENDs run
 * through both, senders retrying on 4xx as an MTA does. Afterwards no error sticks (200 SELECTs
 * all succeed), an IDLE session opened before the outage gets new mail within 2 s, every
 * acknowledged message is there exactly once (no duplicate from a retried delivery whose first
 * attempt was stored after all, nothing lost), and the POP3 maildrop of a session that dropped
 * during the outage is free again within seconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../server/store/types.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { LineClient } from '../helpers/server.ts';
import { addUser, FINAL, openMongo, startServerProcess, TextClient, type ServerProcess } from './support.ts';

const USER = 'alice@example.com';
const PASSWORD = 'secret-password';
const PER_SENDER = 25;

let dir: string;
let h2File: string;
let standIn: MongoStandIn;
let uri: string;
let servers: ServerProcess[] = [];

function message(subject: string): string {
  return `From: sender@example.net\r\nTo: ${USER}\r\nSubject: ${subject}\r\n\r\n${subject}\r\n`;
}

async function imapSession(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.readUntil(/^\* OK/);
  const reply = await client.command('l', `LOGIN ${USER} ${PASSWORD}`, 30_000);
  if (!/^l OK/m.test(reply)) throw new Error(`login failed: ${reply}`);
  return client;
}

/** Delivers `count` messages over LMTP, each retried on 4xx until acknowledged; returns the subjects. */
async function lmtpSender(
  port: number,
  name: string,
  count: number,
  outage: { down: boolean },
): Promise<string[]> {
  const acknowledged: string[] = [];
  let client: TextClient | null = null;
  for (let i = 0; i < count;) {
    const subject = `${name}-${i}`;
    try {
      if (!client) {
        client = await TextClient.connect(port);
        await client.read(FINAL);
        await client.send('LHLO sender.example', FINAL);
      }
      await client.send('RSET', FINAL);
      const from = await client.send('MAIL FROM:<sender@example.net>', FINAL, 30_000);
      const rcpt = from.startsWith('250') ? await client.send(`RCPT TO:<${USER}>`, FINAL, 30_000) : from;
      let reply = rcpt;
      if (rcpt.startsWith('250')) {
        await client.send('DATA', FINAL);
        reply = await client.send(`${message(subject)}.`, FINAL, 60_000);
      }
      if (reply.startsWith('250')) {
        acknowledged.push(subject);
        i++;
      } else if (/^4\d\d /m.test(reply)) {
        await sleep(outage.down ? 300 : 50); // an MTA's retry, shortened
      } else {
        throw new Error(`${subject}: ${reply}`);
      }
    } catch (error) {
      if (error instanceof Error && /^\S+-\d+: /.test(error.message)) throw error;
      client?.close(); // a dropped connection: start over, as an MTA would
      client = null;
      await sleep(300);
    }
  }
  client?.close();
  return acknowledged;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-outage-load-'));
  h2File = path.join(dir, 'mongo.h2');
  standIn = await startMongoStandIn({ h2File });
  uri = freshDatabaseUri(standIn.uri);
  const store: Store = await openMongo(uri);
  await addUser(store, USER, PASSWORD);
  await store.close();
  servers = await Promise.all([startServerProcess(uri), startServerProcess(uri)]);
}, 240_000);

afterAll(async () => {
  if (process.env.MALLARD_TEST_LOG) for (const server of servers) console.log(server.output());
  await Promise.all(servers.map((server) => server.stop()));
  await standIn?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('database outage under load, two server processes', () => {
  it('no sticky errors, IDLE resumes within 2 s, no duplicate, nothing acknowledged lost, POP3 lock freed', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const idler = await imapSession(a.imapPort);
    expect(await idler.command('s', 'SELECT INBOX')).toMatch(/^s OK/m);
    idler.send('i IDLE\r\n');
    await idler.readUntil(/^\+ /);
    const pop3 = await TextClient.connect(b.pop3Port);
    await pop3.read(/^\+OK/);
    await pop3.send(`USER ${USER}`, /^[+-]/);
    expect(await pop3.send(`PASS ${PASSWORD}`, /^[+-]/)).toMatch(/^\+OK/);

    const outage = { down: false };
    const senders = [
      lmtpSender(a.lmtpPort, 'a1', PER_SENDER, outage),
      lmtpSender(a.lmtpPort, 'a2', PER_SENDER, outage),
      lmtpSender(b.lmtpPort, 'b1', PER_SENDER, outage),
      lmtpSender(b.lmtpPort, 'b2', PER_SENDER, outage),
    ];
    // Kill the database while the senders are busy, drop the POP3 session meanwhile, restart.
    await sleep(1500);
    outage.down = true;
    await standIn.kill();
    pop3.close();
    await sleep(2000);
    standIn = await startMongoStandIn({ h2File, port: standIn.port });
    outage.down = false;
    const acknowledged = (await Promise.all(senders)).flat();

    // IDLE, opened before the outage, gets new mail within 2 s of its acknowledgement.
    await idler.readUntil(/^\* \d+ EXISTS/, 30_000); // whatever arrived during the load
    const probe = await lmtpSender(b.lmtpPort, 'probe', 1, outage);
    const acked = Date.now();
    for (;;) {
      idler.send('DONE\r\n');
      await idler.readUntil(/^i OK/, 30_000);
      const fetched = await idler.command('f', 'FETCH 1:* (ENVELOPE)', 30_000);
      if (fetched.includes(`"${probe[0]}"`)) break;
      idler.send('i IDLE\r\n');
      await idler.readUntil(/^\+ /);
      await idler.readUntil(/^\* \d+ EXISTS/, Math.max(1, 2000 - (Date.now() - acked)));
    }
    const idleDelay = Date.now() - acked;

    // No error sticks: 200 SELECTs through both processes all succeed.
    const sessions = await Promise.all([a, a, b, b].map((server) => imapSession(server.imapPort)));
    let failed = 0;
    await Promise.all(
      sessions.map(async (session, index) => {
        for (let i = 0; i < 50; i++) {
          const reply = await session.command(`s${index}x${i}`, 'SELECT INBOX', 30_000);
          if (!new RegExp(`^s${index}x${i} OK`, 'm').test(reply)) failed++;
        }
      }),
    );

    // The maildrop of the session that dropped during the outage is free again.
    const freed = Date.now();
    let pop3Reply = '';
    while (Date.now() - freed < 10_000) {
      const again = await TextClient.connect(a.pop3Port);
      await again.read(/^\+OK/);
      await again.send(`USER ${USER}`, /^[+-]/);
      pop3Reply = await again.send(`PASS ${PASSWORD}`, /^[+-]/, 30_000);
      again.close();
      if (pop3Reply.startsWith('+OK')) break;
      await sleep(250);
    }

    // Every acknowledged message exactly once, nothing else.
    const store = await openMongo(uri);
    const subjects: string[] = [];
    try {
      const user = (await store.getUserByUsername(USER))!;
      const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
      for (const summary of await store.listMessages(inbox.id)) {
        const raw = (await store.readBlob(summary.blobId)).toString('latin1');
        subjects.push(/^Subject: (.*)$/m.exec(raw)![1]!.trim());
      }
    } finally {
      await store.close();
    }
    const expected = [...acknowledged, ...probe].sort();
    const duplicates = subjects.filter((subject, i) => subjects.indexOf(subject) !== i);
    const lost = expected.filter((subject) => !subjects.includes(subject));
    const unacknowledged = subjects.filter((subject) => !expected.includes(subject));
    console.log(
      `outage under load: ${acknowledged.length} acknowledged, ${subjects.length} stored, ` +
        `${duplicates.length} duplicates, ${lost.length} lost, ${unacknowledged.length} not acknowledged, ` +
        `${failed}/200 SELECTs failed, IDLE ${idleDelay} ms, POP3 ${Date.now() - freed} ms`,
    );
    expect(failed).toBe(0);
    expect(idleDelay).toBeLessThan(2000);
    expect(duplicates).toEqual([]);
    expect(lost).toEqual([]);
    expect(unacknowledged).toEqual([]);
    expect(pop3Reply).toMatch(/^\+OK/);
    expect(Date.now() - freed).toBeLessThan(5000);
    for (const session of [idler, ...sessions]) session.close();
  }, 240_000);
});
