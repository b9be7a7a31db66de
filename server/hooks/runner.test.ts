import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionRule, ConnectionRuleKind, RuleProtocol } from '../store/types.ts';
import { REASONS, type RuleFactory } from './rule.ts';
import { createRuleHooks, type RuleHooks, type RuleHooksOptions, type RuleSource } from './runner.ts';
import type { ConnectionSession, Protocol } from './types.ts';

interface RuleSpec {
  kind: ConnectionRuleKind;
  cidrs?: string[];
  limit?: number;
  windowSeconds?: number;
  protocols?: RuleProtocol[];
  enabled?: boolean;
  id?: string;
}

/** A rule source in memory: the runner only reads rules and their version. */
class FakeSource implements RuleSource {
  list: ConnectionRule[] = [];
  version = 0;
  failing = false;
  reads = 0;
  private nextId = 1;

  set(specs: RuleSpec[]): ConnectionRule[] {
    this.list = specs.map((spec, index) => ({
      id: spec.id ?? String(this.nextId++),
      position: index + 1,
      kind: spec.kind,
      cidrs: spec.cidrs ?? [],
      limit: spec.limit ?? null,
      windowSeconds: spec.windowSeconds ?? null,
      protocols: spec.protocols ?? [],
      enabled: spec.enabled ?? true,
      note: '',
      createdAt: new Date(0),
      updatedAt: new Date(0),
    }));
    this.version++;
    return this.list;
  }

  listRules(): Promise<ConnectionRule[]> {
    this.reads++;
    if (this.failing) return Promise.reject(new Error('store down'));
    return Promise.resolve(this.list.map((rule) => ({ ...rule })));
  }

  rulesVersion(): Promise<number> {
    if (this.failing) return Promise.reject(new Error('store down'));
    return Promise.resolve(this.version);
  }
}

class Clock {
  constructor(public ms = 1_000_000) {}
  now = () => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

function logCapture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

let sessionCount = 0;
function session(remoteAddress: string, protocol: Protocol = 'imap', secure = false): ConnectionSession {
  return {
    id: `s${++sessionCount}`,
    protocol,
    remoteAddress,
    remotePort: 40000 + sessionCount,
    localPort: 143,
    secure,
    user: null,
    openedAt: new Date(),
  };
}

describe('rule runner', () => {
  const running: RuleHooks[] = [];
  afterEach(() => {
    for (const hooks of running.splice(0)) hooks.stop();
  });

  function start(source: FakeSource, options: Partial<RuleHooksOptions> = {}) {
    const capture = logCapture();
    const hooks = createRuleHooks({ store: source, logger: capture.logger, pollMs: 0, ...options });
    running.push(hooks);
    return { hooks, lines: capture.lines };
  }

  async function verdictOf(hooks: RuleHooks, address: string, protocol: Protocol = 'imap') {
    const connection = session(address, protocol);
    const verdict = await hooks.onConnect(connection);
    hooks.onClose(connection);
    return verdict;
  }

  it('allows everything when there are no rules, counting nothing', async () => {
    const { hooks } = start(new FakeSource());
    expect(await verdictOf(hooks, '192.0.2.1')).toEqual({ allow: true });
    expect(await hooks.checkAuthAllowed(session('192.0.2.1'), 'a@example.com')).toEqual({ allow: true });
    expect(hooks.counters().size).toBe(0);
    expect(hooks.version).toBe(0);
  });

  it('asks the rules in order: the first decisive one wins', async () => {
    const source = new FakeSource();
    const [allow, deny] = source.set([
      { kind: 'allow', cidrs: ['10.0.0.0/8'] },
      { kind: 'deny', cidrs: ['0.0.0.0/0'] },
    ]);
    const { hooks } = start(source);
    expect(await verdictOf(hooks, '10.9.8.7')).toEqual({ allow: true });
    expect(await verdictOf(hooks, '::ffff:10.0.0.1')).toEqual({ allow: true });
    expect(await verdictOf(hooks, '192.0.2.1')).toEqual({ allow: false, reason: REASONS.denied });
    expect(await verdictOf(hooks, '2001:db8::1')).toEqual({ allow: true }); // no IPv6 rule
    expect(hooks.counters().get(allow!.id)).toEqual({ allow: 2, deny: 0, errors: 0 });
    expect(hooks.counters().get(deny!.id)).toEqual({ allow: 0, deny: 1, errors: 0 });

    // The same rules the other way round: the deny comes first and takes everything.
    source.set([
      { kind: 'deny', cidrs: ['0.0.0.0/0'] },
      { kind: 'allow', cidrs: ['10.0.0.0/8'] },
    ]);
    await hooks.reload();
    expect((await verdictOf(hooks, '10.9.8.7')).allow).toBe(false);
  });

  it('never tells the client which rule or range refused it', async () => {
    const source = new FakeSource();
    source.set([{ kind: 'deny', cidrs: ['198.51.100.0/24'], id: '4242' }]);
    const { hooks } = start(source);
    const verdict = await verdictOf(hooks, '198.51.100.9');
    expect(verdict.allow).toBe(false);
    const reason = (verdict as { reason: string }).reason;
    expect(reason).not.toMatch(/198\.51|\/24|4242|deny|rule/i);
  });

  it('applies a rule only to its protocols, and skips disabled rules', async () => {
    const source = new FakeSource();
    source.set([
      { kind: 'deny', cidrs: ['192.0.2.0/24'], protocols: ['pop3', 'smtp'] },
      { kind: 'deny', cidrs: ['0.0.0.0/0'], enabled: false },
    ]);
    const { hooks } = start(source);
    expect((await verdictOf(hooks, '192.0.2.1', 'imap')).allow).toBe(true);
    expect((await verdictOf(hooks, '192.0.2.1', 'lmtp')).allow).toBe(true);
    expect((await verdictOf(hooks, '192.0.2.1', 'pop3')).allow).toBe(false);
    expect((await verdictOf(hooks, '192.0.2.1', 'smtp')).allow).toBe(false);
    expect((await verdictOf(hooks, '203.0.113.1', 'pop3')).allow).toBe(true);
  });

  it('counts and logs every verdict with the rule, protocol and address', async () => {
    const source = new FakeSource();
    const [allow, deny] = source.set([
      { kind: 'allow', cidrs: ['127.0.0.1'] },
      { kind: 'deny', cidrs: ['192.0.2.0/24'] },
    ]);
    const { hooks, lines } = start(source);
    await verdictOf(hooks, '127.0.0.1', 'pop3');
    await verdictOf(hooks, '192.0.2.5', 'smtp');
    await verdictOf(hooks, '192.0.2.6', 'smtp');
    await hooks.checkAuthAllowed(session('127.0.0.1'), 'a@example.com');
    expect(hooks.counters().get(allow!.id)).toEqual({ allow: 2, deny: 0, errors: 0 });
    expect(hooks.counters().get(deny!.id)).toEqual({ allow: 0, deny: 2, errors: 0 });
    await sleep(10);
    const verdicts = lines.filter((line) => line.verdict !== undefined);
    expect(verdicts).toHaveLength(4);
    expect(verdicts[0]).toMatchObject({
      level: 20,
      rule: allow!.id,
      kind: 'allow',
      protocol: 'pop3',
      remote: '127.0.0.1',
      verdict: 'allow',
      phase: 'connect',
    });
    expect(verdicts[1]).toMatchObject({
      level: 40,
      rule: deny!.id,
      kind: 'deny',
      protocol: 'smtp',
      remote: '192.0.2.5',
      verdict: 'deny',
      msg: 'connection refused by rule',
    });
    expect(verdicts[3]).toMatchObject({ phase: 'auth', user: 'a@example.com', verdict: 'allow' });
  });

  describe('fails closed', () => {
    const throwing: RuleFactory = (rule) => ({
      rule,
      reason: REASONS.denied,
      temporary: false,
      connect: () => {
        throw new Error('rule exploded');
      },
      auth: () => Promise.reject(new Error('rule exploded later')),
    });

    it('refuses when a rule throws or rejects, and counts an error', async () => {
      const source = new FakeSource();
      const [bad] = source.set([
        { kind: 'deny', cidrs: ['192.0.2.0/24'] },
        { kind: 'allow', cidrs: ['0.0.0.0/0'] },
      ]);
      const { hooks, lines } = start(source, { factories: { deny: throwing } });
      expect(await verdictOf(hooks, '203.0.113.1')).toEqual({
        allow: false,
        reason: REASONS.failed,
        temporary: true,
      });
      expect((await hooks.checkAuthAllowed(session('203.0.113.1'), 'x')).allow).toBe(false);
      expect(hooks.counters().get(bad!.id)).toEqual({ allow: 0, deny: 2, errors: 2 });
      await sleep(10);
      expect(lines.find((line) => line.msg === 'connection rule failed; refusing')).toMatchObject({
        level: 40,
        rule: bad!.id,
        err: { message: 'rule exploded' },
      });
    });

    it('refuses when a rule does not answer in time', async () => {
      const slow: RuleFactory = (rule) => ({
        rule,
        reason: REASONS.denied,
        temporary: false,
        connect: () => new Promise(() => {}),
        auth: () => sleep(500).then(() => null),
      });
      const source = new FakeSource();
      const [stuck] = source.set([{ kind: 'rate', limit: 100 }]);
      const { hooks } = start(source, { factories: { rate: slow }, ruleTimeoutMs: 50 });
      const started = Date.now();
      expect(await verdictOf(hooks, '203.0.113.1')).toMatchObject({ allow: false, temporary: true });
      expect(Date.now() - started).toBeLessThan(400);
      expect(hooks.counters().get(stuck!.id)?.errors).toBe(1);
      expect(hooks.openConnections).toBe(0);
    });

    it('a rule that answers in time decides normally', async () => {
      const quick: RuleFactory = (rule) => ({
        rule,
        reason: REASONS.denied,
        temporary: false,
        connect: () => sleep(5).then(() => 'deny' as const),
      });
      const source = new FakeSource();
      source.set([{ kind: 'rate', limit: 1 }]);
      const { hooks } = start(source, { factories: { rate: quick }, ruleTimeoutMs: 500 });
      expect(await verdictOf(hooks, '203.0.113.1')).toEqual({ allow: false, reason: REASONS.denied });
    });

    it('a stored rule that cannot be built refuses everything in its scope', async () => {
      const source = new FakeSource();
      const [broken, unknown] = source.set([
        { kind: 'deny', cidrs: ['not a range'], protocols: ['pop3'] },
        { kind: 'greylist' as ConnectionRuleKind, protocols: ['smtp'] },
      ]);
      const { hooks } = start(source);
      expect((await verdictOf(hooks, '203.0.113.1', 'imap')).allow).toBe(true);
      expect(await verdictOf(hooks, '203.0.113.1', 'pop3')).toMatchObject({ allow: false, temporary: true });
      expect((await verdictOf(hooks, '203.0.113.1', 'smtp')).allow).toBe(false);
      expect(hooks.counters().get(broken!.id)?.errors).toBe(1);
      expect(hooks.counters().get(unknown!.id)?.errors).toBe(1);
    });

    it('refuses until the rules could be loaded once', async () => {
      const source = new FakeSource();
      source.failing = true;
      const { hooks } = start(source, { pollMs: 10 });
      expect(await verdictOf(hooks, '203.0.113.1')).toMatchObject({ allow: false, temporary: true });
      expect((await hooks.checkAuthAllowed(session('203.0.113.1'), 'x')).allow).toBe(false);
      expect(hooks.openConnections).toBe(0);
      source.failing = false;
      await expect.poll(() => hooks.version, { timeout: 2000 }).toBe(0);
      expect(await verdictOf(hooks, '203.0.113.1')).toEqual({ allow: true });
    });
  });

  describe('max-conn', () => {
    it('refuses the (N+1)th open connection from one IP and accepts again after one closes', async () => {
      const source = new FakeSource();
      const [rule] = source.set([{ kind: 'max-conn', limit: 2 }]);
      const { hooks } = start(source);
      const first = session('192.0.2.1');
      const second = session('::ffff:192.0.2.1'); // the same client, seen through a dual-stack socket
      expect(await hooks.onConnect(first)).toEqual({ allow: true });
      expect(await hooks.onConnect(second)).toEqual({ allow: true });
      const third = session('192.0.2.1', 'pop3');
      expect(await hooks.onConnect(third)).toEqual({
        allow: false,
        reason: REASONS.tooMany,
        temporary: true,
      });
      expect((await hooks.onConnect(session('192.0.2.2'))).allow).toBe(true);
      // The refused connection closes: it must not free a place it never had.
      hooks.onClose(third);
      expect((await hooks.onConnect(session('192.0.2.1'))).allow).toBe(false);
      hooks.onClose(first);
      hooks.onClose(first); // a second close changes nothing
      const fourth = session('192.0.2.1');
      expect((await hooks.onConnect(fourth)).allow).toBe(true);
      expect((await hooks.onConnect(session('192.0.2.1'))).allow).toBe(false);
      expect(hooks.counters().get(rule!.id)).toEqual({ allow: 0, deny: 3, errors: 0 });
      hooks.onClose(second);
      hooks.onClose(fourth);
      expect((await hooks.onConnect(session('192.0.2.1'))).allow).toBe(true);
    });

    it('counts only the protocols it applies to', async () => {
      const source = new FakeSource();
      source.set([{ kind: 'max-conn', limit: 1, protocols: ['imap'] }]);
      const { hooks } = start(source);
      expect((await hooks.onConnect(session('192.0.2.1', 'pop3'))).allow).toBe(true);
      expect((await hooks.onConnect(session('192.0.2.1', 'pop3'))).allow).toBe(true);
      expect((await hooks.onConnect(session('192.0.2.1', 'imap'))).allow).toBe(true);
      expect((await hooks.onConnect(session('192.0.2.1', 'imap'))).allow).toBe(false);
    });

    it('admits exactly N of connections arriving at once', async () => {
      const source = new FakeSource();
      source.set([{ kind: 'max-conn', limit: 3 }]);
      const { hooks } = start(source);
      const verdicts = await Promise.all(
        Array.from({ length: 8 }, () => hooks.onConnect(session('192.0.2.1'))),
      );
      expect(verdicts.filter((verdict) => verdict.allow)).toHaveLength(3);
      expect(hooks.openConnections).toBe(3);
    });

    it('lets an earlier allow rule exempt an address', async () => {
      const source = new FakeSource();
      source.set([
        { kind: 'allow', cidrs: ['192.168.0.0/16'] },
        { kind: 'max-conn', limit: 1 },
      ]);
      const { hooks } = start(source);
      for (let i = 0; i < 3; i++) expect((await hooks.onConnect(session('192.168.1.10'))).allow).toBe(true);
      expect((await hooks.onConnect(session('192.0.2.1'))).allow).toBe(true);
      expect((await hooks.onConnect(session('192.0.2.1'))).allow).toBe(false);
    });
  });

  describe('rate', () => {
    it('refuses more than N connections per IP per minute, in a sliding window', async () => {
      const clock = new Clock();
      const source = new FakeSource();
      source.set([{ kind: 'rate', limit: 3 }]);
      const { hooks } = start(source, { now: clock.now });
      for (let i = 0; i < 3; i++) expect((await verdictOf(hooks, '192.0.2.1')).allow).toBe(true);
      expect(await verdictOf(hooks, '192.0.2.1')).toEqual({
        allow: false,
        reason: REASONS.tooFast,
        temporary: true,
      });
      expect((await verdictOf(hooks, '192.0.2.2')).allow).toBe(true);
      clock.advance(30_000);
      expect((await verdictOf(hooks, '192.0.2.1')).allow).toBe(false);
      // The first four attempts leave the window; the one at +30 s is still in it.
      clock.advance(30_001);
      expect((await verdictOf(hooks, '192.0.2.1')).allow).toBe(true);
      expect((await verdictOf(hooks, '192.0.2.1')).allow).toBe(true);
      expect((await verdictOf(hooks, '192.0.2.1')).allow).toBe(false);
    });

    it('keeps its window across a reload', async () => {
      const clock = new Clock();
      const source = new FakeSource();
      const [rate] = source.set([{ kind: 'rate', limit: 2 }]);
      const { hooks } = start(source, { now: clock.now });
      await verdictOf(hooks, '192.0.2.1');
      await verdictOf(hooks, '192.0.2.1');
      source.set([
        { kind: 'deny', cidrs: ['203.0.113.0/24'] },
        { kind: 'rate', limit: 2, id: rate!.id },
      ]);
      await hooks.reload();
      expect((await verdictOf(hooks, '192.0.2.1')).allow).toBe(false);
      expect(hooks.counters().get(rate!.id)?.deny).toBe(1);
    });
  });

  describe('lockout', () => {
    it('refuses logins from an address after N failures, not the account elsewhere, until the window passes', async () => {
      const clock = new Clock();
      const source = new FakeSource();
      const [rule] = source.set([{ kind: 'lockout', limit: 3, windowSeconds: 10 }]);
      const { hooks } = start(source, { now: clock.now });
      const attacker = session('192.0.2.66');
      expect(await hooks.onConnect(attacker)).toEqual({ allow: true });
      for (let i = 0; i < 2; i++) {
        expect((await hooks.checkAuthAllowed(attacker, 'bob@example.com')).allow).toBe(true);
        hooks.onAuthFailure(attacker, 'bob@example.com');
        clock.advance(1000);
      }
      expect((await hooks.checkAuthAllowed(attacker, 'bob@example.com')).allow).toBe(true);
      hooks.onAuthFailure(attacker, 'bob@example.com');
      // Locked: the address, whatever account...
      expect(await hooks.checkAuthAllowed(attacker, 'bob@example.com')).toEqual({
        allow: false,
        reason: REASONS.auth,
        temporary: true,
      });
      expect((await hooks.checkAuthAllowed(attacker, 'carol@example.com')).allow).toBe(false);
      // ... but not the account: its owner logs in from elsewhere.
      const owner = session('198.51.100.1');
      expect((await hooks.checkAuthAllowed(owner, 'bob@example.com')).allow).toBe(true);
      hooks.releaseAuthAttempt(owner, 'bob@example.com');
      // Connections are not refused: the lockout is about logins.
      expect((await verdictOf(hooks, '192.0.2.66')).allow).toBe(true);
      // Refused attempts do not prolong it; the first failure leaves the window 10 s after it.
      clock.advance(7_999);
      expect((await hooks.checkAuthAllowed(attacker, 'bob@example.com')).allow).toBe(false);
      clock.advance(2);
      expect((await hooks.checkAuthAllowed(attacker, 'bob@example.com')).allow).toBe(true);
      expect(hooks.counters().get(rule!.id)).toEqual({ allow: 0, deny: 3, errors: 0 });
    });

    it('counts an attempt when it allows it, and takes it back when it did not fail', async () => {
      const source = new FakeSource();
      source.set([{ kind: 'lockout', limit: 3, windowSeconds: 60 }]);
      const { hooks } = start(source);
      const sessions = [1, 2, 3, 4].map(() => session('192.0.2.70'));
      // Concurrent: none has failed yet, but the fourth is over the limit.
      const verdicts = await Promise.all(sessions.map((s) => hooks.checkAuthAllowed(s, 'bob@example.com')));
      expect(verdicts.map((verdict) => verdict.allow)).toEqual([true, true, true, false]);
      // Two succeed: their attempts are given back, so two more may try.
      hooks.releaseAuthAttempt(sessions[0]!, 'bob@example.com');
      hooks.releaseAuthAttempt(sessions[1]!, 'bob@example.com');
      hooks.onAuthFailure(sessions[2]!, 'bob@example.com');
      expect((await hooks.checkAuthAllowed(sessions[0]!, 'x@example.com')).allow).toBe(true);
      expect((await hooks.checkAuthAllowed(sessions[1]!, 'x@example.com')).allow).toBe(true);
      expect((await hooks.checkAuthAllowed(sessions[3]!, 'x@example.com')).allow).toBe(false);
      // A dry run counts nothing.
      hooks.releaseAuthAttempt(sessions[0]!, 'x@example.com');
      expect((await hooks.test('192.0.2.70', 'imap')).auth.allow).toBe(true);
      expect((await hooks.test('192.0.2.70', 'imap')).auth.allow).toBe(true);
    });

    it('says when a require-tls rule applies, stopping at an allow rule before it', async () => {
      const source = new FakeSource();
      source.set([
        { kind: 'allow', cidrs: ['10.0.0.0/8'] },
        { kind: 'require-tls', protocols: ['imap'] },
      ]);
      const { hooks } = start(source);
      await hooks.reload();
      expect(hooks.requiresTls(session('192.0.2.1', 'imap'))).toBe(true);
      expect(hooks.requiresTls(session('192.0.2.1', 'imap', true))).toBe(false);
      expect(hooks.requiresTls(session('10.1.2.3', 'imap'))).toBe(false);
      expect(hooks.requiresTls(session('192.0.2.1', 'pop3'))).toBe(false);
    });

    it('counts failures only on its protocols', async () => {
      const source = new FakeSource();
      source.set([{ kind: 'lockout', limit: 1, windowSeconds: 60, protocols: ['pop3'] }]);
      const { hooks } = start(source);
      hooks.onAuthFailure(session('192.0.2.1', 'imap'), 'a');
      expect((await hooks.checkAuthAllowed(session('192.0.2.1', 'pop3'), 'a')).allow).toBe(true);
      hooks.onAuthFailure(session('192.0.2.1', 'pop3'), 'a');
      expect((await hooks.checkAuthAllowed(session('192.0.2.1', 'pop3'), 'a')).allow).toBe(false);
      expect((await hooks.checkAuthAllowed(session('192.0.2.1', 'imap'), 'a')).allow).toBe(true);
    });
  });

  it('require-tls refuses logins without TLS and leaves connections alone', async () => {
    const source = new FakeSource();
    const [allow, tls] = source.set([
      { kind: 'allow', cidrs: ['10.0.0.0/8'] },
      { kind: 'require-tls', protocols: ['imap', 'pop3'] },
    ]);
    const { hooks } = start(source);
    expect((await verdictOf(hooks, '192.0.2.1')).allow).toBe(true);
    expect(await hooks.checkAuthAllowed(session('192.0.2.1'), 'a')).toEqual({
      allow: false,
      reason: REASONS.auth,
    });
    expect((await hooks.checkAuthAllowed(session('192.0.2.1', 'imap', true), 'a')).allow).toBe(true);
    expect((await hooks.checkAuthAllowed(session('192.0.2.1', 'smtp'), 'a')).allow).toBe(true);
    expect((await hooks.checkAuthAllowed(session('10.0.0.5'), 'a')).allow).toBe(true);
    expect(hooks.counters().get(allow!.id)).toEqual({ allow: 1, deny: 0, errors: 0 });
    expect(hooks.counters().get(tls!.id)).toEqual({ allow: 0, deny: 1, errors: 0 });
  });

  it('reloads when the version moves, and keeps the old rules when the store fails', async () => {
    const source = new FakeSource();
    const [first] = source.set([{ kind: 'deny', cidrs: ['192.0.2.0/24'] }]);
    const { hooks } = start(source, { pollMs: 10 });
    expect((await verdictOf(hooks, '192.0.2.1')).allow).toBe(false);
    expect((await verdictOf(hooks, '198.51.100.1')).allow).toBe(true);
    source.set([{ kind: 'deny', cidrs: ['198.51.100.0/24'] }]);
    await expect.poll(() => hooks.version, { timeout: 2000 }).toBe(2);
    expect((await verdictOf(hooks, '192.0.2.1')).allow).toBe(true);
    expect((await verdictOf(hooks, '198.51.100.1')).allow).toBe(false);
    // Counters of a rule that is gone go too.
    expect(hooks.counters().has(first!.id)).toBe(false);

    const reads = source.reads;
    await sleep(50);
    expect(source.reads).toBe(reads); // unchanged version: nothing read but the version
    source.failing = true;
    await sleep(50);
    expect((await verdictOf(hooks, '198.51.100.1')).allow).toBe(false);
    await expect(hooks.reload()).rejects.toThrow('store down');
    expect(hooks.rules()).toHaveLength(1);
  });

  it('test() says which rule decides, without counting or recording anything', async () => {
    const clock = new Clock();
    const source = new FakeSource();
    const [deny, maxConn, rate, tls] = source.set([
      { kind: 'deny', cidrs: ['192.0.2.0/24'], protocols: ['smtp'] },
      { kind: 'max-conn', limit: 1 },
      { kind: 'rate', limit: 1 },
      { kind: 'require-tls' },
    ]);
    const { hooks } = start(source, { now: clock.now });
    const smtp = await hooks.test('192.0.2.1', 'smtp');
    expect(smtp.connect).toMatchObject({ allow: false, reason: REASONS.denied, error: null });
    expect(smtp.connect.rule?.id).toBe(deny!.id);
    const imap = await hooks.test('192.0.2.1', 'imap');
    expect(imap.connect).toEqual({ allow: true, rule: null, reason: null, error: null });
    expect(imap.auth.rule?.id).toBe(tls!.id);
    expect(imap.auth.allow).toBe(false);
    expect((await hooks.test('192.0.2.1', 'imap', { secure: true })).auth.allow).toBe(true);
    // Dry runs did not use up the rate, nor count.
    expect(hooks.counters().size).toBe(0);
    const open = session('192.0.2.1');
    expect((await hooks.onConnect(open)).allow).toBe(true);
    const busy = await hooks.test('192.0.2.1', 'imap');
    expect(busy.connect.rule?.id).toBe(maxConn!.id);
    hooks.onClose(open);
    expect((await hooks.test('192.0.2.1', 'imap')).connect.rule?.id).toBe(rate!.id);
  });
});
