/**
 * Sender authentication on port 25, end to end: a real DNS server on loopback (dnsmasq) serves
 * SPF, DKIM and DMARC records for the test domains, messages are signed by Python's dkimpy (DKIM),
 * sealed by mailauth's ARC sealer (a forward) and signed by Mallard's own outbound DKIM signer, sent over real SMTP to a real
 * server on the sqlite store, and read back from the store. Checks the Authentication-Results
 * field, DMARC p=reject (550 5.7.1, or Junk when configured), p=quarantine (Junk, made when
 * missing), SPF failing alone (accepted), forged Authentication-Results (removed), and the admin
 * API's events saying why.
 */
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sealMessage } from 'mailauth/lib/arc/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminEvent } from '../../server/admin/schemas.ts';
import { createLogger } from '../../server/log.ts';
import { DkimKeys, dkimSigner } from '../../server/outbound/dkim.ts';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { SmtpLineClient } from '../delivery/clients.ts';

const HOST = 'mx.mallard.test';
/** dkimpy is Debian's python3-dkim: the system Python has it. */
const PYTHON = '/usr/bin/python3';

const signScript = `
import base64, json, sys, dkim
job = json.load(sys.stdin)
message = base64.b64decode(job['message'])
key = job['key'].encode()
if job['mode'] == 'dkim':
    out = dkim.sign(message, job['selector'].encode(), job['domain'].encode(), key,
                    include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])
else:
    out = b''.join(dkim.arc_sign(message, job['selector'].encode(), job['domain'].encode(), key,
                                 job['srv_id'].encode()))
print(json.dumps({'headers': out.decode()}))
`;

function dkimpy(
  mode: 'dkim' | 'arc',
  message: Buffer,
  domain: string,
  key: string,
  srvId = '',
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, ['-c', signScript], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`dkimpy failed: ${stderr}`));
      resolve((JSON.parse(stdout) as { headers: string }).headers.replace(/\r?\n/g, '\r\n'));
    });
    child.stdin!.end(
      JSON.stringify({
        mode,
        message: message.toString('base64'),
        selector: 'sel',
        domain,
        key,
        srv_id: srvId,
      }),
    );
  });
}

function rsaKey(): { pem: string; record: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    pem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    record: `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
  };
}

function message(from: string, subject: string, extra = ''): Buffer {
  return Buffer.from(
    `From: ${from}\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n` +
      `Date: Fri, 04 Dec 2026 18:00:00 +0000\r\nMessage-ID: <${crypto.randomUUID()}@test>\r\n${extra}` +
      `MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello from ${from}.\r\n`,
    'latin1',
  );
}

const signedKey = rsaKey();
const forwarderKey = rsaKey();
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-dkim-'));
const ownKeys = new DkimKeys(keyDir, 'mallard');

let dns: Dnsmasq;
let server: TestServer;
let alice: string;
const events: AdminEvent[] = [];

async function startServerWith(env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const started = await startTestServer({
    MALLARD_DNS_SERVERS: dns.server,
    MALLARD_HOSTNAME: HOST,
    ...env,
  });
  await started.server.store.addAddress(await started.addUser('alice', 'secret'), 'alice@example.test');
  return started;
}

beforeAll(async () => {
  const own = ownKeys.dnsRecord('own.test');
  dns = await startDnsmasq({
    // All of .test: the DMARC tree walk asks up to _dmarc.test, which must be NXDOMAIN, not refused.
    zones: ['test'],
    txt: [
      { name: 'signed.test', value: 'v=spf1 ip4:127.0.0.1 -all' },
      { name: 'sel._domainkey.signed.test', value: signedKey.record },
      { name: '_dmarc.signed.test', value: 'v=DMARC1; p=reject' },
      { name: '_dmarc.reject.test', value: 'v=DMARC1; p=reject' },
      { name: '_dmarc.quarantine.test', value: 'v=DMARC1; p=quarantine' },
      { name: 'evil.test', value: 'v=spf1 ip4:127.0.0.1 -all' },
      { name: 'hardfail.test', value: 'v=spf1 -all' },
      { name: 'forwarder.test', value: 'v=spf1 ip4:127.0.0.1 -all' },
      { name: 'sel._domainkey.forwarder.test', value: forwarderKey.record },
      { name: '_dmarc.lists.test', value: 'v=DMARC1; p=none' },
      { name: 'sel._domainkey.lists.test', value: signedKey.record },
      { name: own.name, value: own.value },
      { name: '_dmarc.own.test', value: 'v=DMARC1; p=reject' },
    ],
  });
  server = await startServerWith();
  alice = (await server.server.store.getUserByUsername('alice'))!.id;
  server.server.events.subscribe((event) => events.push(event));
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await dns?.stop();
  fs.rmSync(keyDir, { recursive: true, force: true });
});

/** Sends one message over SMTP; returns the reply after DATA. */
async function send(port: number, mailFrom: string, raw: Buffer, helo = 'client.test'): Promise<string> {
  const { client } = await SmtpLineClient.connect(port);
  try {
    expect(await client.command(`EHLO ${helo}`)).toMatch(/^250/);
    expect(await client.command(`MAIL FROM:<${mailFrom}>`)).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
    const [reply] = await client.data(raw);
    return reply!;
  } finally {
    client.close();
  }
}

/** The newest message of a user's mailbox with the given special use (null: INBOX), as stored. */
async function newest(
  target: TestServer,
  userId: string,
  specialUse: '\\Junk' | null,
): Promise<Buffer | null> {
  const mailboxes = await target.server.store.listMailboxes(userId);
  const mailbox = mailboxes.find((candidate) =>
    specialUse ? candidate.specialUse === specialUse : candidate.path === 'INBOX',
  );
  if (!mailbox) return null;
  const messages = await target.server.store.listMessages(mailbox.id);
  const last = messages.at(-1);
  return last ? target.server.store.readBlob(last.blobId) : null;
}

/** The Authentication-Results field we wrote (unfolded): the one naming our host name. */
function ourResults(stored: Buffer): string {
  const unfolded = stored
    .toString('latin1')
    .split('\r\n\r\n')[0]!
    .replace(/\r\n[ \t]+/g, ' ');
  const fields = unfolded.split('\r\n').filter((line) => line.startsWith(`Authentication-Results: ${HOST};`));
  expect(fields).toHaveLength(1);
  return fields[0]!;
}

describe('sender authentication on port 25', () => {
  it('a message signed by dkimpy from an SPF-authorized host: dkim=pass, spf=pass, dmarc=pass', async () => {
    const raw = message('Sam <sam@signed.test>', 'signed by dkimpy');
    const signed = Buffer.concat([Buffer.from(await dkimpy('dkim', raw, 'signed.test', signedKey.pem)), raw]);
    expect(await send(server.smtpPort, 'sam@signed.test', signed)).toMatch(/^250 2\.0\.0 /);
    const stored = (await newest(server, alice, null))!;
    const results = ourResults(stored);
    expect(results).toMatch(/ dkim=pass [^;]*header\.[di]=@?signed\.test/);
    expect(results).toMatch(/ spf=pass [^;]*smtp\.mailfrom=sam@signed\.test/);
    expect(results).toMatch(/ dmarc=pass [^;]*header\.from=signed\.test/);
    // Below our trace fields Return-Path and Delivered-To, above our Received; the rest as sent.
    expect(stored.toString('latin1')).toMatch(
      /^Return-Path: <sam@signed\.test>\r\nDelivered-To: alice@example\.test\r\nAuthentication-Results: /,
    );
    expect(stored.subarray(stored.length - signed.length).equals(signed)).toBe(true);
  });

  it('a forged From of a p=reject domain is refused with 550 5.7.1 at the end of DATA, and the admin API says why', async () => {
    const before = (await newest(server, alice, null))!;
    const reply = await send(
      server.smtpPort,
      'spoofer@evil.test',
      message('CEO <ceo@reject.test>', 'wire money'),
    );
    expect(reply).toMatch(/^550 5\.7\.1 .*DMARC policy of reject\.test/);
    expect((await newest(server, alice, null))!.equals(before)).toBe(true);
    const refused = events.find((event) => event.type === 'delivery.refused');
    expect(refused?.data).toMatchObject({
      protocol: 'smtp',
      reply: expect.stringMatching(/^550 5\.7\.1 /) as unknown,
      reasons: expect.arrayContaining([
        'spf=pass',
        'dmarc=fail',
        'dmarc=fail policy=reject (from reject.test)',
      ]) as unknown,
    });
  });

  it('a failing p=quarantine domain goes to Junk, which is made again when the user deleted it', async () => {
    await server.server.store.deleteMailbox(alice, 'Junk');
    const raw = message('Q <q@quarantine.test>', 'quarantined');
    expect(await send(server.smtpPort, 'spoofer@evil.test', raw)).toMatch(/^250 /);
    const junk = (await newest(server, alice, '\\Junk'))!;
    expect(junk.subarray(junk.length - raw.length).equals(raw)).toBe(true);
    expect(ourResults(junk)).toMatch(/ dmarc=fail /);
    const delivery = events.findLast((event) => event.type === 'delivery');
    expect(delivery?.data).toMatchObject({
      mailbox: 'Junk',
      reasons: expect.arrayContaining(['dmarc=fail policy=quarantine (from quarantine.test)']) as unknown,
    });
  });

  it('SPF failing alone does not reject: accepted into INBOX with spf=fail', async () => {
    const raw = message('H <h@hardfail.test>', 'spf fails');
    expect(await send(server.smtpPort, 'h@hardfail.test', raw)).toMatch(/^250 /);
    const stored = (await newest(server, alice, null))!;
    expect(stored.subarray(stored.length - raw.length).equals(raw)).toBe(true);
    expect(ourResults(stored)).toMatch(/ spf=fail [^;]*smtp\.mailfrom=h@hardfail\.test/);
  });

  it('removes incoming Authentication-Results claiming our host name, keeps the others', async () => {
    const forged =
      `Authentication-Results: ${HOST.toUpperCase()}; dkim=pass header.d=reject.test\r\n` +
      `Authentication-Results: (comment) "${HOST}";\r\n dmarc=pass header.from=reject.test\r\n` +
      'Authentication-Results: mx.elsewhere.test; spf=pass smtp.mailfrom=x@elsewhere.test\r\n';
    const raw = message('H <h@hardfail.test>', 'forged results', forged);
    expect(await send(server.smtpPort, 'h@hardfail.test', raw)).toMatch(/^250 /);
    const text = (await newest(server, alice, null))!.toString('latin1');
    expect(text).not.toContain('header.d=reject.test');
    expect(text).not.toContain('header.from=reject.test');
    expect(text).toContain('Authentication-Results: mx.elsewhere.test; spf=pass');
  });

  it("an ARC-sealed forward (mailauth's sealer) that broke the author signature: arc=pass", async () => {
    // The author's list signs (dkimpy); the forwarder changes the body, breaking that signature,
    // and seals what it saw on arrival (dkimpy's arc_sign needs python3-authres, not installed).
    const original = message('Lee <lee@lists.test>', 'forwarded');
    const signature = await dkimpy('dkim', original, 'lists.test', signedKey.pem);
    const changed = Buffer.from(
      signature + original.toString('latin1') + '-- \r\nSent through the forwarder\r\n',
      'latin1',
    );
    const seal = await sealMessage(changed, {
      signingDomain: 'forwarder.test',
      selector: 'sel',
      privateKey: forwarderKey.pem,
      authResults: 'forwarder.test; dkim=pass header.d=lists.test; spf=pass smtp.mailfrom=lists.test',
      cv: 'none',
    });
    expect(seal.length).toBeGreaterThan(0);
    const sealed = Buffer.concat([seal, changed]);
    expect(await send(server.smtpPort, 'bounce@forwarder.test', sealed)).toMatch(/^250 /);
    const results = ourResults((await newest(server, alice, null))!);
    expect(results).toMatch(/ arc=pass /);
    // mailauth reports a body hash mismatch as neutral (lenient mode), RFC 6376 as fail.
    expect(results).toMatch(/ dkim=(?:fail|neutral) [^;]*lists\.test/);
  });

  it("a message signed by Mallard's own outbound DKIM signer verifies: dkim=pass, dmarc=pass", async () => {
    const log = createLogger('silent', process.stderr);
    const raw = message('Me <me@own.test>', 'signed by mallard');
    const signed = await dkimSigner(ownKeys, () => Promise.resolve(true), log).sign(raw, 'me@own.test');
    expect(signed.length).toBeGreaterThan(raw.length);
    expect(await send(server.smtpPort, 'me@own.test', signed)).toMatch(/^250 /);
    const results = ourResults((await newest(server, alice, null))!);
    expect(results).toMatch(/ dkim=pass [^;]*own\.test/);
    expect(results).toMatch(/ dmarc=pass /);
  });

  it('with inbound.dmarc_reject: quarantine, p=reject goes to Junk instead', async () => {
    const lenient = await startServerWith({ MALLARD_INBOUND_DMARC_REJECT: 'quarantine' });
    try {
      const lenientAlice = (await lenient.server.store.getUserByUsername('alice'))!.id;
      const raw = message('CEO <ceo@reject.test>', 'wire money again');
      expect(await send(lenient.smtpPort, 'spoofer@evil.test', raw)).toMatch(/^250 /);
      const junk = (await newest(lenient, lenientAlice, '\\Junk'))!;
      expect(junk.subarray(junk.length - raw.length).equals(raw)).toBe(true);
    } finally {
      await lenient.stop();
    }
  });
});
