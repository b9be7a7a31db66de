/**
 * Connection rules over real TCP against a real server (IMAP): refusal before the greeting,
 * concurrent connections per IP, the login lockout and its window, require-tls, and rules changed
 * by another process taking effect without a restart.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuleHooks } from '../../server/hooks/runner.ts';
import { SqliteStore } from '../../server/store/sqlite/index.ts';
import type { NewConnectionRule } from '../../server/store/types.ts';
import { runMallard } from '../helpers/cli.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

/** Connects and reads the first line: the greeting, or the refusal. */
async function firstLine(port: number, secure = false): Promise<{ client: LineClient; line: string }> {
  const client = await LineClient.connect(port, secure);
  const line = (await client.readUntil(/^\* /)).trimEnd();
  return { client, line };
}

async function waitClosed(client: LineClient): Promise<void> {
  await expect.poll(() => client.closed, { timeout: 5000 }).toBe(true);
}

describe('connection rules over IMAP', () => {
  let test: TestServer;
  let rules: RuleHooks;

  beforeAll(async () => {
    test = await startTestServer();
    rules = test.server.rules!;
    await test.addUser('alice@example.com', 'correct horse battery');
  });
  afterAll(async () => {
    await test?.stop();
  });

  /** Replaces every rule with `inputs`, as an administrator would, and applies them now. */
  async function setRules(inputs: NewConnectionRule[]) {
    const store = test.server.store;
    for (const rule of await store.listRules()) await store.deleteRule(rule.id);
    const created = [];
    for (const input of inputs) created.push(await store.createRule(input));
    await rules.reload();
    return created;
  }

  it('refuses a denied CIDR with * BYE before the greeting, and counts it', async () => {
    const [deny] = await setRules([{ kind: 'deny', cidrs: ['127.0.0.0/8'] }]);
    const { client, line } = await firstLine(test.imapPort);
    expect(line).toBe('* BYE Connection refused');
    await waitClosed(client);
    // Over implicit TLS too: the BYE arrives through TLS, and no greeting.
    const secure = await LineClient.connect(test.imapsPort, true);
    expect(await secure.readUntil(/^\* BYE/, 3000)).toBe('* BYE Connection refused\r\n');
    await waitClosed(secure);
    await expect(secure.readUntil(/^\* OK/, 100)).rejects.toThrow();
    expect(rules.counters().get(deny!.id)).toEqual({ allow: 0, deny: 2, errors: 0 });
    await expect.poll(() => rules.openConnections).toBe(0);

    // Another address range does not match: the greeting comes.
    await setRules([{ kind: 'deny', cidrs: ['10.0.0.0/8', '::1'] }]);
    const allowed = await firstLine(test.imapPort);
    expect(allowed.line).toMatch(/^\* OK \[CAPABILITY /);
    allowed.client.close();
  });

  it('refuses the (N+1)th connection from one IP and accepts again after one closes', async () => {
    const [maxConn] = await setRules([{ kind: 'max-conn', limit: 2, protocols: ['imap'] }]);
    await expect.poll(() => rules.openConnections).toBe(0);
    const first = await firstLine(test.imapPort);
    const second = await firstLine(test.imapPort);
    expect(first.line).toMatch(/^\* OK /);
    expect(second.line).toMatch(/^\* OK /);
    const third = await firstLine(test.imapPort);
    expect(third.line).toBe('* BYE Too many connections from your address');
    await waitClosed(third.client);
    // The refused connection's close did not free a place.
    const fourth = await firstLine(test.imapPort);
    expect(fourth.line).toMatch(/^\* BYE /);
    await waitClosed(fourth.client);

    expect(await first.client.command('a1', 'LOGOUT')).toMatch(/^a1 OK/m);
    await waitClosed(first.client);
    await expect.poll(() => rules.openConnections).toBe(1);
    const again = await firstLine(test.imapPort);
    expect(again.line).toMatch(/^\* OK /);
    const over = await firstLine(test.imapPort);
    expect(over.line).toMatch(/^\* BYE /);
    expect(rules.counters().get(maxConn!.id)).toEqual({ allow: 0, deny: 3, errors: 0 });
    for (const client of [second.client, again.client, over.client]) client.close();
  });

  it('require-tls refuses a login without TLS, even from loopback', async () => {
    await setRules([{ kind: 'require-tls', protocols: ['imap'] }]);
    const { client } = await firstLine(test.imapPort);
    // Said for what it is, not as a wrong password (the rule is not a secret: LOGINDISABLED shows it).
    expect(await client.command('a1', 'LOGIN alice@example.com "correct horse battery"')).toMatch(
      /^a1 NO \[PRIVACYREQUIRED\] This server requires TLS for passwords, even from this machine/m,
    );
    expect(await client.command('a2', 'STARTTLS')).toMatch(/^a2 OK/m);
    await client.startTls();
    expect(await client.command('a3', 'LOGIN alice@example.com "correct horse battery"')).toMatch(/^a3 OK/m);
    client.close();
  });

  it('takes up a rule another process adds to the store, without a restart', async () => {
    await setRules([]);
    const other = await SqliteStore.open(test.config.data_dir);
    try {
      const rule = await other.createRule({ kind: 'deny', cidrs: ['127.0.0.1'], protocols: ['imap'] });
      const started = Date.now();
      // The server polls the store's rules version (every 2 s by default).
      for (;;) {
        const { client, line } = await firstLine(test.imapPort);
        client.close();
        if (line === '* BYE Connection refused') break;
        expect(line).toMatch(/^\* OK /);
        expect(Date.now() - started, 'the new rule was not applied in time').toBeLessThan(8000);
        await sleep(200);
      }
      expect(rules.rules().map((r) => r.id)).toEqual([rule.id]);

      // Deleted with the CLI in a child process: connections are accepted again.
      const deleted = runMallard(['rule', 'del', rule.id], { dataDir: test.config.data_dir });
      expect(deleted.stderr).toBe('');
      expect(deleted.status).toBe(0);
      const removedAt = Date.now();
      for (;;) {
        const { client, line } = await firstLine(test.imapPort);
        client.close();
        if (line.startsWith('* OK ')) break;
        expect(Date.now() - removedAt, 'the deletion was not applied in time').toBeLessThan(8000);
        await sleep(200);
      }
    } finally {
      await other.close();
    }
  });
});

describe('login lockout over IMAP', () => {
  let test: TestServer;

  beforeAll(async () => {
    test = await startTestServer();
    await test.addUser('bob@example.com', 'correct horse battery');
  });
  afterAll(async () => {
    await test?.stop();
  });

  it('starts after the configured failures and ends after its window', async () => {
    const rule = await test.server.store.createRule({ kind: 'lockout', limit: 3, windowSeconds: 2 });
    await test.server.rules!.reload();
    const { client } = await firstLine(test.imapPort);
    const login = (tag: string, password: string) =>
      client.command(tag, `LOGIN bob@example.com "${password}"`);
    for (const tag of ['f1', 'f2', 'f3']) {
      expect(await login(tag, 'wrong password')).toMatch(
        new RegExp(`^${tag} NO \\[AUTHENTICATIONFAILED\\]`, 'm'),
      );
    }
    const lockedAt = Date.now();
    // Locked now: the right password is refused too, with the same answer as a wrong one.
    expect(await login('l1', 'correct horse battery')).toMatch(
      /^l1 NO \[AUTHENTICATIONFAILED\] Authentication failed/m,
    );
    expect(test.server.rules!.counters().get(rule.id)).toEqual({ allow: 0, deny: 1, errors: 0 });
    // A new connection is accepted (the lockout is about logins) and locked as well.
    const other = await firstLine(test.imapPort);
    expect(other.line).toMatch(/^\* OK /);
    expect(await other.client.command('o1', 'LOGIN bob@example.com "correct horse battery"')).toMatch(
      /^o1 NO/m,
    );
    other.client.close();

    await sleep(Math.max(0, 2100 - (Date.now() - lockedAt)));
    expect(await login('ok', 'correct horse battery')).toMatch(/^ok OK/m);
    expect(test.server.rules!.counters().get(rule.id)?.deny).toBe(2);
    client.close();
  });
});
