/**
 * `mallard serve` with two worker processes on the embedded store, through real sockets: both
 * workers take connections on one port; a delivery through one is pushed to IDLE sessions on
 * both; the admin API sees and kicks sessions of either; the per-address connection limit and the
 * login lockout hold for the whole server, not per worker; a worker killed with kill -9 is replaced
 * without losing an acknowledged message; a clean stop says BYE on every worker's sessions.
 *
 * Sequential connections alternate between the workers (node:cluster's round robin); each test
 * checks in the log which worker served what rather than trusting that.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawImap, quote } from '../helpers/imap-raw.ts';
import { Cluster } from './cluster.ts';

const PASSWORD = 'correct horse';
const ALICE = 'alice@example.test';
const BOB = 'bob@example.test';
const CAROL = 'carol@example.test';
const DAVE = 'dave@example.test';
const ERIN = 'erin@example.test';
/** Connections per account; the tests open at most two of one account at once. */
const PER_USER = 2;
/** Below what the tests from 127.0.0.1 open at once; the limit test uses an address of its own. */
const PER_ADDRESS = 8;
const FAILURE_LIMIT = 3;

let cluster: Cluster;

const imap = (localAddress?: string) => cluster.imap(localAddress);
const twoSessions = (user: string, loginsBefore: number) => cluster.twoSessions(user, PASSWORD, loginsBefore);
const lmtpDeliver = (to: string, subject: string) => cluster.lmtpDeliver(to, subject);

/** Both workers and the supervisor read rules changed by the admin API (the lead at once, the others by polling). */
async function rulesLoaded(count: number, from: number): Promise<void> {
  const loaded = new Set<string>();
  let index = 0;
  await cluster.waitFor((line) => {
    if (index++ >= from && line.msg === 'connection rules loaded' && line.rules === count)
      loaded.add(line.supervisor ? 'supervisor' : `worker ${line.worker}`);
    return loaded.size === 3;
  });
}

beforeAll(async () => {
  cluster = await Cluster.start({
    workers: 2,
    accounts: { [ALICE]: PASSWORD, [BOB]: PASSWORD, [CAROL]: PASSWORD, [DAVE]: PASSWORD, [ERIN]: PASSWORD },
    env: {
      MALLARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
      MALLARD_IMAP_MAX_CONNECTIONS_PER_USER: String(PER_USER),
      MALLARD_AUTH_ADDRESS_FAILURE_LIMIT: String(FAILURE_LIMIT),
      MALLARD_AUTH_BASE_DELAY_MS: '0',
      MALLARD_AUTH_MAX_DELAY_MS: '0',
    },
  });
}, 90_000);

afterAll(async () => {
  await cluster?.dispose();
}, 60_000);

describe('mallard serve with two workers', () => {
  it('takes connections on one port in both workers', async () => {
    const { first, second, workers } = await twoSessions(ALICE, 0);
    expect(new Set(workers)).toEqual(new Set([1, 2]));
    expect((await first.command('NOOP')).status).toBe('OK');
    expect((await second.command('NOOP')).status).toBe('OK');
    await first.logout();
    await second.logout();
  });

  it('pushes a message delivered by LMTP through one worker to IDLE sessions on both within 1 s', async () => {
    const { first, second, workers } = await twoSessions(BOB, 0);
    expect(new Set(workers)).toEqual(new Set([1, 2]));
    for (const client of [first, second]) {
      await client.ok('SELECT INBOX');
      client.write('i1 IDLE\r\n');
      expect((await client.readResponse()).text).toMatch(/^\+ /);
    }
    expect(await lmtpDeliver(BOB, 'pushed')).toMatch(/^250 /);
    // Both see it: one of them is on the worker that did not take the delivery.
    for (const client of [first, second]) {
      expect((await client.readResponse(1000)).text).toBe('* 1 EXISTS');
      client.write('DONE\r\n');
      expect((await client.readTagged('i1')).status).toBe('OK');
      await client.logout();
    }
  });

  it('lists and kicks sessions of either worker from the admin API', async () => {
    const { first, second, workers } = await twoSessions(CAROL, 0);
    expect(new Set(workers)).toEqual(new Set([1, 2]));
    const listed = await cluster.admin('GET', `/api/sessions?protocol=imap&user=${CAROL}`);
    const sessions = (listed.body as { sessions: Array<{ id: string }> }).sessions;
    expect(sessions).toHaveLength(2);
    const status = (await cluster.admin('GET', '/api/status')).body as { connections: { imap: number } };
    expect(status.connections.imap).toBeGreaterThanOrEqual(2);
    for (const session of sessions) {
      expect((await cluster.admin('DELETE', `/api/sessions/${session.id}`)).status).toBe(204);
    }
    for (const client of [first, second]) {
      expect((await client.readResponse()).text).toMatch(/^\* BYE /);
    }
    expect((await cluster.admin('GET', `/api/sessions?user=${CAROL}`)).body).toMatchObject({ total: 0 });
  });

  it('holds the per-address connection limit across workers', async () => {
    const open: RawImap[] = [];
    for (let n = 0; n < PER_ADDRESS; n++) open.push(await imap('127.0.0.3'));
    // Each worker alone holds half of them: only the supervisor's gate sees the limit reached.
    const refused = await imap('127.0.0.3');
    expect(refused.greeting).toMatch(/^\* BYE \[UNAVAILABLE\] Too many connections from your address/);
    for (const client of open) client.close();
  });

  it('holds the per-user connection limit across workers', async () => {
    const { first, second, workers } = await twoSessions(ERIN, 0);
    expect(new Set(workers)).toEqual(new Set([1, 2]));
    // One session on each worker: only the supervisor's count says the account has two.
    const third = await imap();
    const refused = await third.command(`LOGIN ${quote(ERIN)} ${quote(PASSWORD)}`);
    expect(`${refused.status} ${refused.text}`).toMatch(
      /^NO \[LIMIT\] Too many connections for this account/,
    );
    third.close();
    await first.logout();
    await second.logout();
  });

  it('holds a max-conn connection rule across workers, added from the admin API', async () => {
    const added = cluster.lines.length;
    const created = await cluster.admin('POST', '/api/rules', {
      kind: 'max-conn',
      limit: 2,
      protocols: ['imap'],
    });
    expect(created.status).toBe(201);
    await rulesLoaded(1, added);
    const first = await imap('127.0.0.4');
    const second = await imap('127.0.0.4');
    for (const client of [first, second]) expect(client.greeting).toMatch(/^\* OK /);
    // One each per worker: only a count for the whole server refuses the third.
    const third = await imap('127.0.0.4');
    expect(third.greeting).toMatch(/^\* BYE .*Too many connections from your address/);
    first.close();
    second.close();
    const rules = (await cluster.admin('GET', '/api/rules')).body as {
      rules: Array<{ id: string; counters: { allow: number; deny: number } }>;
    };
    // The refusal counted once, by the supervisor's rules, and shown with the workers' counters.
    expect(rules.rules[0]!.counters).toEqual({ allow: 0, deny: 1, errors: 0 });
    const deleted = cluster.lines.length;
    expect((await cluster.admin('DELETE', `/api/rules/${rules.rules[0]!.id}`)).status).toBe(204);
    await rulesLoaded(0, deleted);
  });

  it('counts failed logins once for the whole server: the address is locked after the limit', async () => {
    let pending = FAILURE_LIMIT;
    for (let n = 0; n < FAILURE_LIMIT; n++) {
      const guesser = await imap('127.0.0.2');
      const reply = await guesser.command(`LOGIN ${quote(DAVE)} ${quote(`wrong ${n}`)}`);
      expect(reply.status).toBe('NO');
      guesser.close();
    }
    await cluster.waitFor((line) => line.msg === 'login failed' && line.user === DAVE && --pending === 0);
    const failedOn = cluster.lines
      .filter((line) => line.msg === 'login failed' && line.user === DAVE)
      .map((line) => line.worker);
    expect(new Set(failedOn)).toEqual(new Set([1, 2]));
    // Per worker, neither reached the limit; together they did: the right password is refused now.
    const owner = await imap('127.0.0.2');
    expect((await owner.command(`LOGIN ${quote(DAVE)} ${quote(PASSWORD)}`)).text).toMatch(
      /AUTHENTICATIONFAILED/,
    );
    const status = (await cluster.admin('GET', '/api/status')).body as { auth: { lockedAddresses: number } };
    expect(status.auth.lockedAddresses).toBe(1);
    // Other addresses are not concerned.
    const other = await imap();
    await other.login(DAVE, PASSWORD);
    await other.logout();
  });

  it('replaces a worker killed with kill -9 and loses no acknowledged message', async () => {
    const victim = cluster.pidOf(2);
    let acknowledged = 0;
    let killed = false;
    const sender = async (lane: number) => {
      for (let n = 0; n < 15; n++) {
        let reply: string;
        try {
          reply = await lmtpDeliver(ALICE, `burst ${lane}.${n}`);
        } catch {
          continue; // the connection died with its worker; the next one goes to a live worker
        }
        if (reply.startsWith('250 ')) acknowledged++;
        if (acknowledged >= 10 && !killed) {
          killed = true;
          process.kill(victim, 'SIGKILL');
        }
      }
    };
    await Promise.all([sender(1), sender(2), sender(3)]);
    expect(killed).toBe(true);
    const replaced = await cluster.waitFor(
      (line) => line.msg === 'worker ready' && line.worker === 2 && line.workerPid !== victim,
    );
    expect(replaced.workerPid).not.toBe(victim);
    const reader = await imap();
    await reader.login(ALICE, PASSWORD);
    const status = await reader.ok('STATUS INBOX (MESSAGES)');
    const messages = Number(/MESSAGES (\d+)/.exec(status.untagged.map((line) => line.text).join('\n'))?.[1]);
    // At most the ones in flight at the kill (one per lane) were stored without their 250 reaching us.
    expect(messages).toBeGreaterThanOrEqual(acknowledged);
    expect(messages).toBeLessThanOrEqual(acknowledged + 3);
    await reader.logout();
  }, 120_000);

  it('says BYE on the sessions of every worker at a clean stop', async () => {
    // After the replacement, sequential connections still alternate over both workers.
    const before = cluster.lines.filter((line) => line.msg === 'authenticated' && line.user === ALICE).length;
    const { first, second, workers } = await twoSessions(ALICE, before);
    expect(new Set(workers)).toEqual(new Set([1, 2]));
    const code = cluster.stop();
    for (const client of [first, second]) {
      expect((await client.readResponse()).text).toMatch(/^\* BYE /);
      client.close();
    }
    expect(await code).toBe(0);
    expect(cluster.lines.filter((line) => line.msg === 'mallard stopped').length).toBe(3);
  }, 60_000);
});

describe('mallard serve whose workers cannot start', () => {
  it('stops and says why, rather than restarting them for ever', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      await expect(
        Cluster.start({ workers: 2, accounts: {}, env: { MALLARD_IMAP_PORT: String(port) } }),
      ).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+: the port is in use/);
    } finally {
      busy.close();
    }
  }, 90_000);
});
