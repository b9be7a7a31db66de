/**
 * The database dies under a running server (the stand-in is SIGKILLed) and comes back on the same
 * port with the same H2 file: clients get clean temporary failures meanwhile (IMAP NO
 * [UNAVAILABLE], POP3 -ERR [SYS/TEMP], LMTP/SMTP 451 4.3.0), sessions survive, logins during the
 * outage neither fail as bad passwords nor count toward the lockout, the server recovers by
 * itself, and everything acknowledged before the outage is still there, byte for byte.
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

let dir: string;
let h2File: string;
let standIn: MongoStandIn;
let uri: string;
let server: ServerProcess;

function message(subject: string): string {
  return `From: a@example.com\r\nTo: alice@example.com\r\nSubject: ${subject}\r\n\r\n${subject}\r\n`;
}

async function imapLogin(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.readUntil(/^\* OK/);
  return client;
}

async function append(client: LineClient, tag: string, text: string): Promise<string> {
  return client.command(tag, `APPEND INBOX (\\Seen) {${Buffer.byteLength(text)}+}\r\n${text}`, 30_000);
}

async function pop3Login(port: number): Promise<TextClient> {
  const client = await TextClient.connect(port);
  await client.read(/^\+OK/);
  await client.send('USER alice@example.com', /^[+-]/);
  return client;
}

async function lmtpSession(port: number): Promise<TextClient> {
  const client = await TextClient.connect(port);
  await client.read(FINAL);
  await client.send('LHLO test.example', FINAL);
  await client.send('MAIL FROM:<sender@example.net>', FINAL);
  return client;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-outage-'));
  h2File = path.join(dir, 'mongo.h2');
  standIn = await startMongoStandIn({ h2File });
  uri = freshDatabaseUri(standIn.uri);
  const store: Store = await openMongo(uri);
  await addUser(store, 'alice@example.com', 'secret-password');
  await store.close();
  server = await startServerProcess(uri);
}, 240_000);

afterAll(async () => {
  if (process.env.MALLARD_TEST_LOG) console.log(server?.output());
  await server?.stop();
  await standIn?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('database outage and recovery', () => {
  it('answers with temporary failures during the outage, then serves again with nothing lost', async () => {
    // --- before: acknowledged writes and open sessions ---
    const imap = await imapLogin(server.imapPort);
    expect(await imap.command('a1', 'LOGIN alice@example.com secret-password')).toMatch(/^a1 OK/m);
    const acknowledged: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const text = message(`before ${i}`);
      expect(await append(imap, `b${i}`, text)).toMatch(new RegExp(`^b${i} OK`, 'm'));
      acknowledged.push(text);
    }
    const delivered = await lmtpSession(server.lmtpPort);
    expect(await delivered.send('RCPT TO:<alice@example.com>', FINAL)).toMatch(/^250 /m);
    expect(await delivered.send('DATA', FINAL)).toMatch(/^354 /m);
    const lmtpText = message('delivered before');
    expect(await delivered.send(`${lmtpText}.`, FINAL)).toMatch(/^250 /m);
    acknowledged.push(lmtpText);
    expect(await imap.command('a2', 'SELECT INBOX')).toMatch(/^\* 4 EXISTS/m);
    // A session in IDLE across the outage.
    const idler = await imapLogin(server.imapPort);
    expect(await idler.command('i1', 'LOGIN alice@example.com secret-password')).toMatch(/^i1 OK/m);
    expect(await idler.command('i2', 'SELECT INBOX')).toMatch(/^\* 4 EXISTS/m);
    idler.send('i3 IDLE\r\n');
    await idler.readUntil(/^\+ /);
    const pop3 = await pop3Login(server.pop3Port);
    expect(await pop3.send('PASS secret-password', /^[+-]/)).toMatch(/^\+OK/);
    const lmtp = await lmtpSession(server.lmtpPort);
    expect(await lmtp.send('RCPT TO:<alice@example.com>', FINAL)).toMatch(/^250 /m);

    // --- the database dies ---
    await standIn.kill();

    // IMAP: the open session keeps going, with NO [UNAVAILABLE] where the store is needed.
    expect(await imap.command('c1', 'NOOP', 30_000)).toMatch(/^c1 OK/m);
    expect(await imap.command('c2', 'FETCH 1 BODY.PEEK[]', 30_000)).toMatch(/^c2 NO \[UNAVAILABLE\]/m);
    expect(await append(imap, 'c3', message('during'))).toMatch(/^c3 NO \[UNAVAILABLE\]/m);
    // Logins fail as "try later", not as bad passwords, and more of them than the lockout allows.
    const attempts = await Promise.all(
      Array.from({ length: 11 }, async () => {
        const client = await imapLogin(server.imapPort);
        const reply = await client.command('l', 'LOGIN alice@example.com secret-password', 30_000);
        client.close();
        return reply;
      }),
    );
    for (const reply of attempts) {
      expect(reply).toMatch(/^l NO \[UNAVAILABLE\]/m);
      expect(reply).not.toMatch(/AUTHENTICATIONFAILED/);
    }
    // POP3: the open session and a new login both get [SYS/TEMP].
    expect(await pop3.send('RETR 1', /^[+-]/, 30_000)).toMatch(/^-ERR \[SYS\/TEMP\]/);
    const pop3During = await pop3Login(server.pop3Port);
    expect(await pop3During.send('PASS secret-password', /^[+-]/, 30_000)).toMatch(/^-ERR \[SYS\/TEMP\]/);
    pop3During.close();
    // LMTP: delivery to an accepted recipient and a new recipient both get 451 4.3.0.
    expect(await lmtp.send('DATA', FINAL)).toMatch(/^354 /m);
    expect(await lmtp.send(`${message('lost in transit')}.`, FINAL, 30_000)).toMatch(/^451 4\.3\.0 /m);
    const lmtpDuring = await lmtpSession(server.lmtpPort);
    expect(await lmtpDuring.send('RCPT TO:<alice@example.com>', FINAL, 30_000)).toMatch(/^451 4\.3\.0 /m);
    lmtpDuring.close();
    // SMTP: the same at RCPT.
    const smtp = await TextClient.connect(server.smtpPort);
    await smtp.read(FINAL);
    await smtp.send('EHLO test.example', FINAL);
    await smtp.send('MAIL FROM:<sender@example.net>', FINAL);
    expect(await smtp.send('RCPT TO:<alice@example.com>', FINAL, 30_000)).toMatch(/^451 4\.3\.0 /m);
    smtp.close();
    expect(server.child.exitCode).toBeNull(); // the server is still up

    // --- the database returns on the same port and file ---
    standIn = await startMongoStandIn({ h2File, port: standIn.port });
    const recovered = Date.now();
    let loginReply = '';
    while (Date.now() - recovered < 30_000) {
      const client = await imapLogin(server.imapPort);
      loginReply = await client.command('r', 'LOGIN alice@example.com secret-password', 30_000);
      client.close();
      if (/^r OK/m.test(loginReply)) break;
      await sleep(250);
    }
    expect(loginReply).toMatch(/^r OK/m); // not locked out by the outage's attempts
    console.log(`service back ${Date.now() - recovered} ms after the database`);

    // The sessions opened before the outage work again.
    expect(await imap.command('d1', 'NOOP', 30_000)).toMatch(/^d1 OK/m);
    const fetched = await imap.command('d2', 'UID FETCH 1:* (UID BODY.PEEK[])', 30_000);
    expect(fetched).toMatch(/^d2 OK/m);
    for (const text of acknowledged) expect(fetched).toContain(text);
    expect(await append(imap, 'd3', message('after'))).toMatch(/^d3 OK \[APPENDUID/m);
    await idler.readUntil(/^\* 5 EXISTS/, 10_000); // the IDLE survived the outage
    idler.send('DONE\r\n');
    await idler.readUntil(/^i3 OK/);
    const retr = await pop3.send('RETR 1', /^(\.|-ERR.*)$/, 30_000);
    expect(retr).toMatch(/^\+OK/);
    expect(retr).toContain('Subject: before 1');
    expect(await lmtp.send('RSET', FINAL)).toMatch(/^250 /m);
    await lmtp.send('MAIL FROM:<sender@example.net>', FINAL);
    expect(await lmtp.send('RCPT TO:<alice@example.com>', FINAL)).toMatch(/^250 /m);
    expect(await lmtp.send('DATA', FINAL)).toMatch(/^354 /m);
    expect(await lmtp.send(`${message('delivered after')}.`, FINAL, 30_000)).toMatch(/^250 /m);
    const status = await imap.command('d4', 'STATUS INBOX (MESSAGES)', 30_000);
    expect(status).toMatch(/MESSAGES 6\)/); // 4 before, 1 APPEND and 1 delivery after
    for (const client of [imap, idler, pop3, lmtp, delivered]) client.close();
  }, 300_000);
});
