/**
 * Spam filtering without rspamd (Mallard's own checks), end to end over SMTP on port 25 against a
 * real server on the sqlite store, with a DNS blocklist served by a real dnsmasq on loopback:
 * a listed client is scored into Junk (or refused), GTUBE lands in Junk or is refused as
 * configured, incoming X-Spam-* fields are replaced by ours, allow and block lists decide per
 * recipient, rspamd that does not answer falls back to the own checks, and greylisting answers
 * 451 4.7.1 at RCPT until the delay has passed. The admin API's events say why each time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminEvent } from '../../server/admin/schemas.ts';
import { freePort } from '../helpers/ports.ts';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { GTUBE, hasSubject, headerOf, sendSmtp, storedIn, testMessage } from './spam-support.ts';

let dns: Dnsmasq;
const servers: TestServer[] = [];

interface Running {
  server: TestServer;
  alice: string;
  bob: string;
  events: AdminEvent[];
}

async function start(env: NodeJS.ProcessEnv): Promise<Running> {
  const server = await startTestServer({
    MALLARD_DNS_SERVERS: dns.server,
    MALLARD_HOSTNAME: 'mx.mallard.test',
    ...env,
  });
  servers.push(server);
  const alice = await server.addUser('alice', 'secret');
  const bob = await server.addUser('bob', 'secret');
  await server.server.store.addAddress(alice, 'alice@example.test');
  await server.server.store.addAddress(bob, 'bob@example.test');
  const events: AdminEvent[] = [];
  server.server.events.subscribe((event) => events.push(event));
  return { server, alice, bob, events };
}

function deliveries(running: Running): Array<Extract<AdminEvent, { type: 'delivery' }>['data']> {
  return running.events
    .filter((event) => event.type === 'delivery')
    .map((event) => (event as Extract<AdminEvent, { type: 'delivery' }>).data);
}

function refusals(running: Running): Array<Extract<AdminEvent, { type: 'delivery.refused' }>['data']> {
  return running.events
    .filter((event) => event.type === 'delivery.refused')
    .map((event) => (event as Extract<AdminEvent, { type: 'delivery.refused' }>).data);
}

let listed: Running;
let plain: Running;

beforeAll(async () => {
  dns = await startDnsmasq({
    zones: ['test'],
    a: [
      // RFC 5782: our client, 127.0.0.1, listed in bl.test; quota.test answers Spamhaus's "error" code.
      { name: '1.0.0.127.bl.test', address: '127.0.0.2' },
      { name: '1.0.0.127.quota.test', address: '127.255.255.254' },
    ],
  });
  listed = await start({
    MALLARD_SPAM_DNSBL: 'bl.test,quota.test,unlisted.test',
    MALLARD_SPAM_DNSBL_SCORE: '5',
    MALLARD_SPAM_JUNK_SCORE: '5',
    // GTUBE (1000 points) stays below this: it goes to Junk.
    MALLARD_SPAM_REJECT_SCORE: '2000',
  });
  // rspamd configured, but nothing listens there: the own checks stand in.
  plain = await start({ MALLARD_SPAM_RSPAMD_URL: `http://127.0.0.1:${await freePort()}` });
}, 60_000);

afterAll(async () => {
  for (const server of servers) await server.stop();
  await dns?.stop();
});

describe('own checks: DNSBL and GTUBE', () => {
  it('a client listed in a DNSBL is scored into Junk with X-Spam fields; an error answer counts for nothing', async () => {
    const exchange = await sendSmtp(
      listed.server.smtpPort,
      'sender@remote.test',
      ['alice@example.test'],
      testMessage('sender@remote.test', 'listed client'),
    );
    expect(exchange.data).toMatch(/^250 /);
    const junk = (await storedIn(listed.server, listed.alice, 'Junk')).find((stored) =>
      hasSubject(stored, 'listed client'),
    );
    expect(junk).toBeDefined();
    const header = headerOf(junk!);
    expect(header).toMatch(/\r\nX-Spam-Flag: YES\r\n/);
    expect(header).toMatch(/\r\nX-Spam-Score: 5\.0\r\n/);
    expect(header).toMatch(
      /X-Spam-Status: Yes, score=5\.0 required=5\.0 action=junk scanner=mallard tests=DNSBL\(bl\.test\)\r\n/,
    );
    expect(header).not.toContain('quota.test');
    expect(
      (await storedIn(listed.server, listed.alice, 'INBOX')).some((stored) =>
        hasSubject(stored, 'listed client'),
      ),
    ).toBe(false);
    const event = deliveries(listed).find(
      (delivery) => delivery.recipient === 'alice@example.test' && delivery.mailbox === 'Junk',
    );
    expect(event?.reasons?.join(' ')).toMatch(/spam: score 5\.0 by mallard \[DNSBL\(bl\.test\)\] → junk/);
  });

  it('GTUBE lands in Junk when the reject score is above it', async () => {
    const exchange = await sendSmtp(
      listed.server.smtpPort,
      'sender@remote.test',
      ['alice@example.test'],
      testMessage('sender@remote.test', 'gtube to junk', GTUBE),
    );
    expect(exchange.data).toMatch(/^250 /);
    const junk = (await storedIn(listed.server, listed.alice, 'Junk')).find((stored) =>
      hasSubject(stored, 'gtube to junk'),
    );
    expect(headerOf(junk!)).toMatch(/X-Spam-Status: Yes, score=1005\.0 [^\r]*tests=GTUBE,DNSBL\(bl\.test\)/);
  });

  it('GTUBE is refused with 550 5.7.1 at the end of DATA, nothing is stored, and the admin API says why', async () => {
    const before = (await storedIn(plain.server, plain.alice, 'INBOX')).length;
    const exchange = await sendSmtp(
      plain.server.smtpPort,
      'sender@remote.test',
      ['alice@example.test'],
      testMessage('sender@remote.test', 'gtube refused', GTUBE),
    );
    expect(exchange.rcpt).toEqual([expect.stringMatching(/^250 /)]);
    expect(exchange.data).toMatch(/^550 5\.7\.1 Message refused as spam/);
    expect((await storedIn(plain.server, plain.alice, 'INBOX')).length).toBe(before);
    expect(await storedIn(plain.server, plain.alice, 'Junk')).toEqual([]);
    const refusal = refusals(plain).at(-1)!;
    expect(refusal.reply).toMatch(/^550 5\.7\.1 /);
    // rspamd is configured but down: the reason says the own checks scored it.
    expect(refusal.reasons.join(' ')).toMatch(
      /spam: score 1000\.0 by mallard \(rspamd unavailable\) \[GTUBE\] → reject/,
    );
  });

  it('incoming X-Spam-* and X-Rspamd-* fields are removed; ours say what we found', async () => {
    const forged = testMessage(
      'sender@remote.test',
      'forged verdict',
      undefined,
      'X-Spam-Flag: NO\r\nX-Spam-Status: No, score=-100\r\nX-Rspamd-Action: no action\r\nX-Spam: no\r\n',
    );
    expect(
      (await sendSmtp(plain.server.smtpPort, 'sender@remote.test', ['alice@example.test'], forged)).data,
    ).toMatch(/^250 /);
    const stored = (await storedIn(plain.server, plain.alice, 'INBOX')).find((copy) =>
      hasSubject(copy, 'forged verdict'),
    )!;
    const header = headerOf(stored);
    expect(header.match(/^X-Spam-Flag:.*$/gm)).toEqual(['X-Spam-Flag: NO']);
    expect(header.match(/^X-Spam-Status:.*$/gm)).toEqual([
      'X-Spam-Status: No, score=0.0 required=5.0 action=accept scanner=mallard tests=none',
    ]);
    expect(header).not.toMatch(/X-Rspamd-Action|^X-Spam: /m);
    // The rest of the message is as sent.
    expect(stored.toString('latin1')).toContain('\r\nSubject: forged verdict\r\n');
  });
});

describe('allow and block lists over SMTP', () => {
  it('a sender on one recipient’s allow list reaches that INBOX; the other recipient gets the spam in Junk', async () => {
    await plain.server.server.store.setSpamEntry(plain.alice, 'allow', 'friend.test');
    const exchange = await sendSmtp(
      plain.server.smtpPort,
      'pal@friend.test',
      ['alice@example.test', 'bob@example.test'],
      testMessage('pal@friend.test', 'allowed gtube', GTUBE),
    );
    expect(exchange.data).toMatch(/^250 /);
    expect(
      (await storedIn(plain.server, plain.alice, 'INBOX')).some((stored) =>
        hasSubject(stored, 'allowed gtube'),
      ),
    ).toBe(true);
    expect(
      (await storedIn(plain.server, plain.bob, 'Junk')).some((stored) => hasSubject(stored, 'allowed gtube')),
    ).toBe(true);
    expect(
      (await storedIn(plain.server, plain.bob, 'INBOX')).some((stored) =>
        hasSubject(stored, 'allowed gtube'),
      ),
    ).toBe(false);
    const event = deliveries(plain)
      .filter((delivery) => delivery.recipient === 'alice@example.test' && delivery.mailbox === 'INBOX')
      .at(-1);
    expect(event?.reasons?.join(' ')).toContain("spam: friend.test on alice@example.test's allow list");
  });

  it('a blocked domain goes to that recipient’s Junk only; an allowed address beats its blocked domain', async () => {
    await plain.server.server.store.setSpamEntry(plain.bob, 'block', '@bulk.test');
    await plain.server.server.store.setSpamEntry(plain.bob, 'allow', 'boss@bulk.test');
    const offer = await sendSmtp(
      plain.server.smtpPort,
      'offers@mail.bulk.test',
      ['alice@example.test', 'bob@example.test'],
      testMessage('Offers <offers@mail.bulk.test>', 'blocked offer'),
    );
    expect(offer.data).toMatch(/^250 /);
    expect(
      (await storedIn(plain.server, plain.bob, 'Junk')).some((stored) => hasSubject(stored, 'blocked offer')),
    ).toBe(true);
    expect(
      (await storedIn(plain.server, plain.alice, 'INBOX')).some((stored) =>
        hasSubject(stored, 'blocked offer'),
      ),
    ).toBe(true);
    // The header From decides too: the envelope sender is a bounce address of the list.
    const boss = await sendSmtp(
      plain.server.smtpPort,
      'bounces@lists.example',
      ['bob@example.test'],
      testMessage('Boss <boss@bulk.test>', 'from the boss'),
    );
    expect(boss.data).toMatch(/^250 /);
    expect(
      (await storedIn(plain.server, plain.bob, 'INBOX')).some((stored) =>
        hasSubject(stored, 'from the boss'),
      ),
    ).toBe(true);
  });
});

describe('greylisting', () => {
  it('answers 451 4.7.1 at RCPT to a new triplet and again when retried too early, without restarting the wait', async () => {
    const grey = await start({ MALLARD_SPAM_GREYLISTING: 'true', MALLARD_SPAM_GREYLIST_DELAY: '3600' });
    const raw = testMessage('new@stranger.test', 'greylisted');
    const first = await sendSmtp(grey.server.smtpPort, 'new@stranger.test', ['alice@example.test'], raw);
    expect(first.rcpt).toEqual([
      expect.stringMatching(/^451 4\.7\.1 Greylisted, please try again in 3600 seconds/),
    ]);
    expect(first.data).toBe('');
    const refusal = refusals(grey).at(-1)!;
    expect(refusal.reply).toMatch(/^451 4\.7\.1 /);
    expect(refusal.recipients).toEqual(['alice@example.test']);
    expect(refusal.reasons[0]).toMatch(/^greylisted: new@stranger\.test → alice@example\.test until /);
    const until = /until (\S+)$/.exec(refusal.reasons[0]!)![1]!;
    const early = await sendSmtp(grey.server.smtpPort, 'new@stranger.test', ['alice@example.test'], raw);
    expect(early.rcpt[0]).toMatch(/^451 4\.7\.1 /);
    expect(refusals(grey).at(-1)!.reasons[0]).toContain(`until ${until}`);
    expect(await storedIn(grey.server, grey.alice, 'INBOX')).toEqual([]);
    // A sender on the recipient's allow list is not held up.
    await grey.server.server.store.setSpamEntry(grey.bob, 'allow', 'new@stranger.test');
    const allowed = await sendSmtp(grey.server.smtpPort, 'new@stranger.test', ['bob@example.test'], raw);
    expect(allowed.rcpt).toEqual([expect.stringMatching(/^250 /)]);
    expect(allowed.data).toMatch(/^250 /);
  });

  it('accepts the retry once the delay has passed (a delay of 0: the very next try)', async () => {
    const grey = await start({ MALLARD_SPAM_GREYLISTING: 'true', MALLARD_SPAM_GREYLIST_DELAY: '0' });
    const raw = testMessage('new@stranger.test', 'greylisted once');
    const first = await sendSmtp(grey.server.smtpPort, 'new@stranger.test', ['alice@example.test'], raw);
    expect(first.rcpt).toEqual([expect.stringMatching(/^451 4\.7\.1 /)]);
    const retry = await sendSmtp(grey.server.smtpPort, 'new@stranger.test', ['alice@example.test'], raw);
    expect(retry.rcpt).toEqual([expect.stringMatching(/^250 /)]);
    expect(retry.data).toMatch(/^250 /);
    expect(
      (await storedIn(grey.server, grey.alice, 'INBOX')).some((stored) =>
        hasSubject(stored, 'greylisted once'),
      ),
    ).toBe(true);
    // Another recipient is another triplet.
    const other = await sendSmtp(grey.server.smtpPort, 'new@stranger.test', ['bob@example.test'], raw);
    expect(other.rcpt).toEqual([expect.stringMatching(/^451 4\.7\.1 /)]);
  });
});
