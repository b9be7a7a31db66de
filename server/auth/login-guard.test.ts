import { describe, expect, it } from 'vitest';
import { guardAddressKey, LoginGuard, type AccountAlert, type Admission } from './login-guard.ts';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const options = {
  addressFailureLimit: 3,
  windowMs: 60_000,
  lockoutMs: 30_000,
  baseDelayMs: 100,
  maxDelayMs: 1000,
  accountSlowdownAfter: 4,
  accountAlertAfter: 6,
  knownAddressMs: 3600_000,
};

function admitted(admission: Admission) {
  if (!admission.admitted) throw new Error(`refused: ${admission.reason}`);
  return admission;
}

describe('LoginGuard', () => {
  it('locks out an address after its limit of failures, for lockoutMs, whatever the account', async () => {
    const time = clock();
    const guard = new LoginGuard(options, undefined, time.now);
    const delays: number[] = [];
    for (let index = 0; index < 3; index++) {
      const admission = admitted(await guard.admit('10.0.0.1', `user${index}@x`));
      delays.push(admission.delayMs);
      admission.attempt.failed(`wrong ${index}`);
    }
    expect(delays).toEqual([0, 100, 200]);
    expect(await guard.admit('10.0.0.1', 'someone@x')).toEqual({ admitted: false, reason: 'address-locked' });
    expect((await guard.admit('10.0.0.2', 'user0@x')).admitted).toBe(true);
    expect(guard.snapshot().lockedAddresses).toBe(1);
    time.advance(30_001);
    expect((await guard.admit('10.0.0.1', 'user0@x')).admitted).toBe(true);
  });

  it('counts attempts in flight: over the limit they wait, and are refused once the others failed', async () => {
    const guard = new LoginGuard(options);
    const first = [0, 1, 2].map(() => guard.admit('10.0.0.3', 'a@x'));
    const waiting = guard.admit('10.0.0.3', 'a@x');
    const attempts = await Promise.all(first.map(async (admission) => admitted(await admission).attempt));
    let settled = false;
    void waiting.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    attempts.forEach((attempt, index) => attempt.failed(`wrong ${index}`));
    expect(await waiting).toEqual({ admitted: false, reason: 'address-locked' });
  });

  it('lets a waiting attempt in when one in flight succeeds (a phone opening many connections)', async () => {
    const guard = new LoginGuard(options);
    const attempts = await Promise.all(
      [0, 1, 2].map(async () => admitted(await guard.admit('10.0.0.4', 'a@x')).attempt),
    );
    const waiting = guard.admit('10.0.0.4', 'a@x');
    attempts[0]!.succeeded();
    expect((await waiting).admitted).toBe(true);
  });

  it('counts the same wrong password for the same account from one address once', async () => {
    const guard = new LoginGuard(options);
    for (let index = 0; index < 5; index++)
      admitted(await guard.admit('10.0.0.5', 'a@x')).attempt.failed('old');
    expect((await guard.admit('10.0.0.5', 'a@x')).admitted).toBe(true);
  });

  it('slows an account under attack for unknown addresses only, never refuses it, and alerts once', async () => {
    const alerts: AccountAlert[] = [];
    const time = clock();
    const guard = new LoginGuard(options, (alert) => alerts.push(alert), time.now);
    admitted(await guard.admit('192.0.2.1', 'owner@x')).attempt.succeeded();
    for (let index = 0; index < 8; index++) {
      admitted(await guard.admit(`198.51.100.${index}`, 'owner@x')).attempt.failed('guess');
    }
    expect(alerts).toEqual([{ username: 'owner@x', failures: 6, addresses: 6, since: new Date(1_000_000) }]);
    expect(guard.snapshot().accountsUnderAttack).toEqual([
      { username: 'owner@x', failures: 8, addresses: 8, since: new Date(1_000_000) },
    ]);
    // Names that are no account are slowed alike (no telling them apart) but never reported.
    for (let index = 0; index < 8; index++) {
      const attempt = admitted(await guard.admit(`198.51.100.${index}`, 'nobody@x')).attempt;
      attempt.failed('guess', { accountExists: false });
    }
    expect(admitted(await guard.admit('203.0.113.8', 'nobody@x')).delayMs).toBe(1000);
    expect(alerts).toHaveLength(1);
    expect(guard.snapshot().accountsUnderAttack.map((alert) => alert.username)).toEqual(['owner@x']);
    // The owner's known address: no delay. A new address: the account's delay, capped.
    expect(admitted(await guard.admit('192.0.2.1', 'owner@x')).delayMs).toBe(0);
    const stranger = admitted(await guard.admit('203.0.113.9', 'owner@x'));
    expect(stranger.delayMs).toBe(1000);
    stranger.attempt.succeeded();
    // Once the window passes, the alert can be raised again.
    time.advance(60_001);
    expect(guard.snapshot().accountsUnderAttack).toEqual([]);
  });

  it('keys IPv6 clients by their /64 and mapped IPv4 as IPv4', () => {
    expect(guardAddressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(guardAddressKey('2001:db8:1:2:bbbb::7')).toBe('2001:db8:1:2::/64');
    expect(guardAddressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
  });
});
