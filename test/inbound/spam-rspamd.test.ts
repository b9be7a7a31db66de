/**
 * Spam filtering with a real rspamd (Debian's, with its own Redis for Bayes statistics) started on
 * loopback, over SMTP on port 25 against a real server on the sqlite store: rspamd's verdict
 * decides (GTUBE refused with 550 5.7.1 at the end of DATA, a plain message accepted with
 * rspamd's score in X-Spam-*), a recipient's allow list beats it for that recipient, and IMAP
 * MOVE into and out of Junk teaches rspamd spam and ham (its /stat counts rise) without ever
 * failing the IMAP command, even when rspamd's controller is down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminEvent } from '../../server/admin/schemas.ts';
import { freePort } from '../helpers/ports.ts';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.ts';
import { startRspamd, type Rspamd } from '../helpers/rspamd.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';
import { GTUBE, hasSubject, headerOf, sendSmtp, storedIn, testMessage } from './spam-support.ts';

let dns: Dnsmasq;
let rspamd: Rspamd;
let server: TestServer;
let alice: string;
let bob: string;
const events: AdminEvent[] = [];

beforeAll(async () => {
  dns = await startDnsmasq({ zones: ['test'] });
  rspamd = await startRspamd({ dnsServer: dns.server });
  server = await startTestServer({
    MALLARD_DNS_SERVERS: dns.server,
    MALLARD_HOSTNAME: 'mx.mallard.test',
    MALLARD_SPAM_RSPAMD_URL: rspamd.scanUrl,
    MALLARD_SPAM_RSPAMD_CONTROLLER_URL: rspamd.controllerUrl,
  });
  alice = await server.addUser('alice', 'secret');
  bob = await server.addUser('bob', 'secret');
  await server.server.store.addAddress(alice, 'alice@example.test');
  await server.server.store.addAddress(bob, 'bob@example.test');
  server.server.events.subscribe((event) => events.push(event));
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await rspamd?.stop();
  await dns?.stop();
});

type EventData<T extends AdminEvent['type']> = Extract<AdminEvent, { type: T }>['data'];

/** The newest delivery.refused event. */
function lastRefusal(): EventData<'delivery.refused'> {
  const found = events.filter((event) => event.type === 'delivery.refused').at(-1)!;
  return found.data as EventData<'delivery.refused'>;
}

/** Resolves with the next spam.learned event of `target` (from now on). */
function nextLearned(target: TestServer): Promise<EventData<'spam.learned'>> {
  return new Promise((resolve) => {
    const unsubscribe = target.server.events.subscribe((event) => {
      if (event.type !== 'spam.learned') return;
      unsubscribe();
      resolve(event.data);
    });
  });
}

/** Logs in over IMAP, selects `mailbox` and runs one command; returns its tagged response. */
async function imap(target: TestServer, user: string, mailbox: string, command: string): Promise<string> {
  const client = await LineClient.connect(target.imapPort);
  try {
    await client.readUntil(/^\* OK/);
    expect(await client.command('a', `LOGIN ${user} secret`)).toMatch(/^a OK/m);
    expect(await client.command('b', `SELECT ${mailbox}`)).toMatch(/^b OK/m);
    return await client.command('c', command);
  } finally {
    client.close();
  }
}

/** The UID of the message with this Subject in the user's mailbox. */
async function uidOf(target: TestServer, userId: string, path: string, subject: string): Promise<number> {
  const store = target.server.store;
  const mailbox = (await store.getMailbox(userId, path))!;
  for (const message of await store.listMessages(mailbox.id)) {
    if (hasSubject(await store.readBlob(message.blobId), subject)) return message.uid;
  }
  throw new Error(`no message "${subject}" in ${path}`);
}

describe('rspamd decides', () => {
  it('GTUBE is refused with 550 5.7.1 at the end of DATA; the admin API says rspamd found it', async () => {
    const exchange = await sendSmtp(
      server.smtpPort,
      'sender@remote.test',
      ['alice@example.test'],
      testMessage('sender@remote.test', 'gtube for rspamd', GTUBE),
    );
    expect(exchange.data).toMatch(/^550 5\.7\.1 Message refused as spam/);
    expect(
      (await storedIn(server, alice, 'INBOX')).some((stored) => hasSubject(stored, 'gtube for rspamd')),
    ).toBe(false);
    const refusal = lastRefusal();
    expect(refusal.reply).toMatch(/^550 5\.7\.1 /);
    expect(refusal.reasons.join(' ')).toMatch(/spam: score 15\.0 by rspamd \[GTUBE\] → reject/);
  });

  it('a plain message is accepted with rspamd’s score in X-Spam-Status, and rspamd counted the scan', async () => {
    const exchange = await sendSmtp(
      server.smtpPort,
      'sender@remote.test',
      ['alice@example.test'],
      testMessage('Sender <sender@remote.test>', 'plain for rspamd'),
    );
    expect(exchange.data).toMatch(/^250 /);
    const stored = (await storedIn(server, alice, 'INBOX')).find((copy) =>
      hasSubject(copy, 'plain for rspamd'),
    )!;
    expect(headerOf(stored)).toMatch(
      /\r\nX-Spam-Flag: NO\r\nX-Spam-Score: -?\d+\.\d\r\nX-Spam-Status: No, score=-?\d+\.\d required=5\.0 action=accept scanner=rspamd /,
    );
  });

  it('a sender on alice’s allow list reaches her INBOX despite GTUBE; bob, who allows nothing, gets it in Junk', async () => {
    await server.server.store.setSpamEntry(alice, 'allow', 'friend@pals.test');
    const exchange = await sendSmtp(
      server.smtpPort,
      'friend@pals.test',
      ['alice@example.test', 'bob@example.test'],
      testMessage('friend@pals.test', 'allowed over rspamd', GTUBE),
    );
    expect(exchange.data).toMatch(/^250 /);
    expect(
      (await storedIn(server, alice, 'INBOX')).some((stored) => hasSubject(stored, 'allowed over rspamd')),
    ).toBe(true);
    const junk = (await storedIn(server, bob, 'Junk')).find((stored) =>
      hasSubject(stored, 'allowed over rspamd'),
    );
    expect(headerOf(junk!)).toMatch(/X-Spam-Flag: YES\r\n.*scanner=rspamd tests=GTUBE/s);
  });
});

describe('learning from Junk moves', () => {
  it('MOVE into Junk learns spam, MOVE out of Junk learns ham: rspamd’s learned count rises each time', async () => {
    const spammy =
      'Cheap watches and pills, limited offer, click now to claim your exclusive prize and bonus money today only';
    const hammy =
      'Dear Alice, the minutes of the school board meeting are attached; we discussed the library budget and the new playground';
    for (const [subject, body] of [
      ['learn me as spam', spammy],
      ['learn me as ham', hammy],
    ]) {
      expect(
        (
          await sendSmtp(
            server.smtpPort,
            'sender@remote.test',
            ['alice@example.test'],
            testMessage('sender@remote.test', subject!, body),
          )
        ).data,
      ).toMatch(/^250 /);
    }
    const before = await rspamd.learned();

    const spamLearned = nextLearned(server);
    const spamUid = await uidOf(server, alice, 'INBOX', 'learn me as spam');
    expect(await imap(server, 'alice', 'INBOX', `UID MOVE ${spamUid} Junk`)).toMatch(/^c OK/m);
    expect(await spamLearned).toEqual({ user: 'alice', kind: 'spam', learned: 1, failed: 0 });
    expect(await rspamd.learned()).toBe(before + 1);

    // Copied into Junk, then moved back out: a mistake the user corrects is learned as ham.
    const hamUid = await uidOf(server, alice, 'INBOX', 'learn me as ham');
    const copied = nextLearned(server);
    expect(await imap(server, 'alice', 'INBOX', `UID COPY ${hamUid} Junk`)).toMatch(/^c OK/m);
    expect((await copied).kind).toBe('spam');
    const hamLearned = nextLearned(server);
    const inJunk = await uidOf(server, alice, 'Junk', 'learn me as ham');
    expect(await imap(server, 'alice', 'Junk', `UID MOVE ${inJunk} INBOX`)).toMatch(/^c OK/m);
    expect(await hamLearned).toEqual({ user: 'alice', kind: 'ham', learned: 1, failed: 0 });
    expect(await rspamd.learned()).toBe(before + 3);
  }, 30_000);

  it('rspamd’s controller down: the MOVE still answers OK, and the event says learning failed', async () => {
    const offline = await startTestServer({
      MALLARD_DNS_SERVERS: dns.server,
      MALLARD_SPAM_RSPAMD_CONTROLLER_URL: `http://127.0.0.1:${await freePort()}`,
    });
    try {
      const carol = await offline.addUser('carol', 'secret');
      await offline.server.store.addAddress(carol, 'carol@example.test');
      expect(
        (
          await sendSmtp(
            offline.smtpPort,
            'sender@remote.test',
            ['carol@example.test'],
            testMessage('sender@remote.test', 'unlearnable'),
          )
        ).data,
      ).toMatch(/^250 /);
      const learned = nextLearned(offline);
      const uid = await uidOf(offline, carol, 'INBOX', 'unlearnable');
      expect(await imap(offline, 'carol', 'INBOX', `UID MOVE ${uid} Junk`)).toMatch(/^c OK/m);
      expect(await learned).toEqual({ user: 'carol', kind: 'spam', learned: 0, failed: 1 });
      expect(
        (await storedIn(offline, carol, 'Junk')).some((stored) => hasSubject(stored, 'unlearnable')),
      ).toBe(true);
    } finally {
      await offline.stop();
    }
  });
});
