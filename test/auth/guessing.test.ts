/**
 * Password guessing over real sockets (issue 19, items 1-3): one login key for padded and
 * case-changed names, attempts counted before the password check (concurrent guesses), the
 * guessing address locked out rather than the account, the account slowed for unknown addresses
 * only and reported in the admin API. Clients connect from several loopback addresses
 * (127.0.0.0/8 is all loopback on Linux) to play the attacker's rotating addresses.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AdminEvent } from '../../server/admin/schemas.ts';
import { Pop3Client } from '../helpers/pop3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'correct horse battery';

interface LoginOutcome {
  /** The tagged reply, or null when the server sent no greeting (a connection limit). */
  reply: string | null;
  elapsedMs: number;
}

/** One connection from `localAddress`: greeting, one LOGIN, the tagged reply, close. */
function imapLogin(
  port: number,
  localAddress: string,
  username: string,
  password: string,
): Promise<LoginOutcome> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    let buffer = '';
    let sentAt = 0;
    const done = (reply: string | null) => {
      socket.destroy();
      resolve({ reply, elapsedMs: Date.now() - sentAt });
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (sentAt === 0 && buffer.includes('\r\n')) {
        if (!buffer.startsWith('* OK')) return done(null);
        sentAt = Date.now();
        socket.write(`a LOGIN ${JSON.stringify(username)} ${JSON.stringify(password)}\r\n`);
      }
      const tagged = /^a (OK|NO|BAD).*$/m.exec(buffer);
      if (tagged) done(tagged[0]);
    });
    socket.on('close', () => done(null));
    socket.on('error', (error) => (sentAt === 0 ? reject(error) : done(null)));
  });
}

const isOk = (outcome: LoginOutcome) => outcome.reply?.startsWith('a OK') ?? false;

describe('password guessing', () => {
  let test: TestServer;
  let checked: ReturnType<typeof vi.spyOn>;

  beforeAll(async () => {
    test = await startTestServer({
      // Small enough that connection limits per address (if any) still let more attempts through.
      MALLARD_AUTH_ADDRESS_FAILURE_LIMIT: '5',
      MALLARD_AUTH_BASE_DELAY_MS: '20',
      MALLARD_AUTH_MAX_DELAY_MS: '600',
      MALLARD_AUTH_ACCOUNT_SLOWDOWN_AFTER: '5',
      MALLARD_AUTH_ACCOUNT_ALERT_AFTER: '12',
    });
    await test.addUser('bob@example.com', PASSWORD);
    await test.addUser('carol@example.com', PASSWORD);
    // Counts the password checks: every check looks the account up first.
    checked = vi.spyOn(test.server.store, 'getCredentials');
  });
  afterAll(async () => {
    await test?.stop();
  });

  it('checks at most the limit of 200 guesses sent at once from one address', async () => {
    checked.mockClear();
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        imapLogin(test.imapPort, '127.0.0.2', 'carol@example.com', `guess ${index}`),
      ),
    );
    const answered = outcomes.filter((outcome) => outcome.reply !== null);
    // More than the limit were under way at once (connection limits may turn some away).
    expect(answered.length).toBeGreaterThan(5);
    // A wrong password or a lockout, or (past the waiting room of the address) a temporary refusal.
    expect(
      answered.every((outcome) => /^a NO \[(AUTHENTICATIONFAILED|UNAVAILABLE)\]/.test(outcome.reply!)),
    ).toBe(true);
    expect(checked).toHaveBeenCalledTimes(5);
    // The address is locked out now: the right password from it is refused without a check.
    checked.mockClear();
    const right = await imapLogin(test.imapPort, '127.0.0.2', 'carol@example.com', PASSWORD);
    expect(right.reply).toMatch(/^a NO \[AUTHENTICATIONFAILED\] Authentication failed/);
    expect(checked).not.toHaveBeenCalled();
    // The account is not: its owner logs in from elsewhere.
    expect(isOk(await imapLogin(test.imapPort, '127.0.0.1', 'carol@example.com', PASSWORD))).toBe(true);
  });

  it('counts padded and case-changed names as one account, slows only unknown addresses and alerts', async () => {
    const alerts: AdminEvent[] = [];
    const unsubscribe = test.server.events.subscribe((event) => {
      if (event.type === 'auth.alert') alerts.push(event);
    });
    // The owner's phone logs in first: 127.0.0.1 becomes a known address of the account.
    expect(isOk(await imapLogin(test.imapPort, '127.0.0.1', 'bob@example.com', PASSWORD))).toBe(true);

    const variants = ['  bob@example.com', 'BOB@example.com  ', ' Bob@Example.COM ', 'bob@EXAMPLE.com'];
    const attacker = async (address: string, guesses: number) => {
      const outcomes: LoginOutcome[] = [];
      for (let index = 0; index < guesses; index++) {
        const name = variants[index % variants.length]!;
        outcomes.push(await imapLogin(test.imapPort, address, name, `${address} guess ${index}`));
      }
      return outcomes;
    };
    const pop3Guess = async () => {
      const client = await Pop3Client.open(test.pop3Port);
      await client.command('USER  BOB@EXAMPLE.COM');
      const reply = await client.command('PASS pop3 guess', 10_000);
      client.close();
      return reply;
    };
    const [a, b, c, pop3] = await Promise.all([
      attacker('127.0.0.3', 5),
      attacker('127.0.0.4', 5),
      attacker('127.0.0.5', 3),
      pop3Guess(),
    ]);
    expect(pop3).toBe('-ERR [AUTH] Authentication failed');
    for (const outcome of [...a, ...b, ...c]) expect(outcome.reply).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/);

    // One account under attack, seen in the admin API's status and as an event.
    const status = (await (
      await fetch(`${test.server.admin!.url}/api/status`, {
        headers: { authorization: `Bearer ${test.server.admin!.token}` },
      })
    ).json()) as { auth: { lockedAddresses: number; accountsUnderAttack: Array<Record<string, unknown>> } };
    expect(status.auth.accountsUnderAttack).toEqual([
      expect.objectContaining({ username: 'bob@example.com', failures: 14, addresses: 4 }),
    ]);
    expect(status.auth.lockedAddresses).toBeGreaterThanOrEqual(2); // 127.0.0.3 and .4 (and .2 above)
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.data).toMatchObject({ username: 'bob@example.com' });
    unsubscribe();

    // The addresses that guessed five times are locked out, right password or not.
    expect((await imapLogin(test.imapPort, '127.0.0.3', 'bob@example.com', PASSWORD)).reply).toMatch(/^a NO/);
    // The owner's known address gets in at once...
    const owner = await imapLogin(test.imapPort, '127.0.0.1', ' Bob@example.com', PASSWORD);
    expect(isOk(owner)).toBe(true);
    expect(owner.elapsedMs).toBeLessThan(400);
    // ... and a new device is slowed down (the account's cap) but never locked out.
    const newDevice = await imapLogin(test.imapPort, '127.0.0.9', 'bob@example.com', PASSWORD);
    expect(isOk(newDevice)).toBe(true);
    expect(newDevice.elapsedMs).toBeGreaterThanOrEqual(550);
  });

  it('a lockout rule locks the guessing address, not the account, and counts concurrent guesses', async () => {
    const rule = await test.server.store.createRule({ kind: 'lockout', limit: 3, windowSeconds: 60 });
    await test.server.rules!.reload();
    try {
      await test.addUser('dave@example.com', PASSWORD);
      checked.mockClear();
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, index) =>
          imapLogin(test.imapPort, '127.0.0.20', 'dave@example.com', `guess ${index}`),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.reply !== null).length).toBeGreaterThan(3);
      expect(checked).toHaveBeenCalledTimes(3);
      expect((await imapLogin(test.imapPort, '127.0.0.20', 'dave@example.com', PASSWORD)).reply).toMatch(
        /^a NO/,
      );
      // From another address the owner logs in: the account was never locked.
      expect(isOk(await imapLogin(test.imapPort, '127.0.0.21', 'dave@example.com', PASSWORD))).toBe(true);
      // Successful logins are given back: they never add up to a lockout.
      for (let index = 0; index < 4; index++) {
        expect(isOk(await imapLogin(test.imapPort, '127.0.0.21', 'dave@example.com', PASSWORD))).toBe(true);
      }
    } finally {
      await test.server.store.deleteRule(rule.id);
      await test.server.rules!.reload();
    }
  });
});
