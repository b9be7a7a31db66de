import { describe, expect, it, vi } from 'vitest';
import { configDefaults } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';
import { ALLOW_ALL, type ConnectionHooks, type ConnectionSession } from '../hooks/types.ts';
import { createLogger } from '../log.ts';
import type { Credentials, Store } from '../store/types.ts';
import {
  checkPasswordLogin,
  isLoopbackAddress,
  passwordsAllowed,
  plaintextAuthAllowedFrom,
} from './login-policy.ts';
import { hashPassword } from './password.ts';
import { AuthThrottle } from './throttle.ts';

const log = createLogger('silent');

describe('where passwords may travel', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['2001:db8::1', false],
    ['', false],
  ])('%s is loopback: %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });

  it('allows plaintext from loopback only when configured', () => {
    const config = configDefaults() as unknown as Config;
    expect(plaintextAuthAllowedFrom(config, '127.0.0.1')).toBe(true);
    expect(plaintextAuthAllowedFrom(config, '192.0.2.1')).toBe(false);
    const strict = { ...config, tls: { ...config.tls, plaintext_auth_on_loopback: false } };
    expect(plaintextAuthAllowedFrom(strict, '127.0.0.1')).toBe(false);
    expect(passwordsAllowed({ secure: true, loopback: false })).toBe(true);
    expect(passwordsAllowed({ secure: false, loopback: true })).toBe(true);
    expect(passwordsAllowed({ secure: false, loopback: false })).toBe(false);
  });
});

describe('checkPasswordLogin', () => {
  const connection: ConnectionSession = {
    id: 'test',
    protocol: 'pop3',
    remoteAddress: '192.0.2.7',
    remotePort: 5555,
    localPort: 110,
    secure: true,
    user: null,
    openedAt: new Date(),
  };

  async function fixture(hooks: ConnectionHooks = ALLOW_ALL) {
    const credentials: Credentials = {
      user: {
        id: 'u1',
        username: 'alice@example.test',
        name: '',
        disabled: false,
        quotaBytes: 0,
        usedBytes: 0,
        createdAt: new Date(),
      },
      passwordHash: await hashPassword('right'),
      appPasswords: [],
    };
    const getCredentials = vi.fn((username: string) =>
      Promise.resolve(username === 'alice@example.test' ? credentials : null),
    );
    const store = { getCredentials, touchAppPassword: () => Promise.resolve() } as unknown as Store;
    const throttle = new AuthThrottle({
      baseDelayMs: 1,
      maxDelayMs: 1,
      lockoutAfter: 3,
      windowMs: 60_000,
      lockoutMs: 60_000,
    });
    return { services: { store, hooks, throttle }, getCredentials, throttle };
  }

  it('accepts the right password and refuses a wrong one, counting the failure', async () => {
    const onAuthFailure = vi.fn();
    const { services, throttle } = await fixture({ ...ALLOW_ALL, onAuthFailure });
    const ok = await checkPasswordLogin(services, connection, 'alice@example.test', 'right', log);
    expect(ok.ok && ok.auth.user.id).toBe('u1');
    expect(await checkPasswordLogin(services, connection, 'alice@example.test', 'wrong', log)).toEqual({
      ok: false,
      reason: 'failed',
    });
    expect(onAuthFailure).toHaveBeenCalledWith(connection, 'alice@example.test');
    expect(throttle.delayFor('192.0.2.7', 'alice@example.test')).toBeGreaterThan(0);
  });

  it('refuses without checking the password when a rule or the lockout says so', async () => {
    const hooks: ConnectionHooks = {
      ...ALLOW_ALL,
      checkAuthAllowed: (_session, username) =>
        Promise.resolve(
          username === 'alice@example.test' ? { allow: false, reason: 'locked' } : { allow: true },
        ),
    };
    const { services, getCredentials } = await fixture(hooks);
    expect(await checkPasswordLogin(services, connection, 'alice@example.test', 'right', log)).toEqual({
      ok: false,
      reason: 'refused',
    });
    expect(getCredentials).not.toHaveBeenCalled();

    const locked = await fixture();
    for (let attempt = 0; attempt < 3; attempt++) {
      await checkPasswordLogin(locked.services, connection, 'alice@example.test', 'wrong', log);
    }
    locked.getCredentials.mockClear();
    expect(await checkPasswordLogin(locked.services, connection, 'alice@example.test', 'right', log)).toEqual(
      {
        ok: false,
        reason: 'refused',
      },
    );
    expect(locked.getCredentials).not.toHaveBeenCalled();
  });
});
