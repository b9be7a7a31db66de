import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { configDefaults } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';
import { ALLOW_ALL, type ConnectionHooks, type ConnectionSession } from '../hooks/types.ts';
import { createLogger } from '../log.ts';
import { openSqliteStore } from '../store/sqlite/index.ts';
import type { Store } from '../store/types.ts';
import {
  checkPasswordLogin,
  isLoopbackAddress,
  passwordsAllowed,
  plaintextAuthAllowedFrom,
  tlsRequiredForPasswords,
} from './login-policy.ts';
import { LoginGuard } from './login-guard.ts';
import { hashPassword } from './password.ts';

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

describe('tlsRequiredForPasswords', () => {
  const connection = { id: 'c', protocol: 'imap', remoteAddress: '127.0.0.1' } as ConnectionSession;
  it.each([
    [{ secure: true, loopback: false }, true, false],
    [{ secure: false, loopback: false }, false, true],
    [{ secure: false, loopback: true }, false, false],
    [{ secure: false, loopback: true }, true, true],
  ])('%j with a require-tls rule %s: %s', (session, ruleSaysTls, expected) => {
    expect(tlsRequiredForPasswords({ ...session, connection }, { requiresTls: () => ruleSaysTls })).toBe(
      expected,
    );
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
  let store: Store;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-login-policy-'));
    store = await openSqliteStore(dir);
    await store.createUser({ username: 'alice@example.test', passwordHash: await hashPassword('right') });
    await store.createUser({ username: 'josé@example.test', passwordHash: await hashPassword('right') });
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function fixture(hooks: ConnectionHooks = ALLOW_ALL, limit = 3) {
    const guard = new LoginGuard({ baseDelayMs: 1, maxDelayMs: 1, addressFailureLimit: limit });
    const getCredentials = vi.spyOn(store, 'getCredentials');
    getCredentials.mockClear();
    return { services: { store, hooks, guard }, getCredentials, guard };
  }

  it('accepts the right password and refuses a wrong one, counting the failure under the login key', async () => {
    const onAuthFailure = vi.fn();
    const releaseAuthAttempt = vi.fn();
    const { services } = fixture({ ...ALLOW_ALL, onAuthFailure, releaseAuthAttempt });
    const ok = await checkPasswordLogin(services, connection, 'alice@example.test', 'right', log);
    expect(ok.ok && ok.auth.user.username).toBe('alice@example.test');
    expect(releaseAuthAttempt).toHaveBeenCalledWith(connection, 'alice@example.test');
    expect(await checkPasswordLogin(services, connection, ' \tALICE@Example.TEST  ', 'wrong', log)).toEqual({
      ok: false,
      reason: 'failed',
    });
    expect(onAuthFailure).toHaveBeenCalledWith(connection, 'alice@example.test');
  });

  it('folds padding, case and Unicode composition into one key', async () => {
    const checkAuthAllowed = vi.fn(() => Promise.resolve({ allow: true as const }));
    const { services } = fixture({ ...ALLOW_ALL, checkAuthAllowed });
    const decomposed = ' JOSE\u0301@example.test ';
    const ok = await checkPasswordLogin(services, connection, decomposed, 'right', log);
    expect(ok.ok && ok.auth.user.username).toBe('josé@example.test');
    expect(checkAuthAllowed).toHaveBeenCalledWith(connection, 'josé@example.test');
    // A name created decomposed is stored composed, so the composed login finds it.
    await store.createUser({ username: 'rene\u0301@example.test', passwordHash: await hashPassword('pw') });
    const rene = await checkPasswordLogin(services, connection, 'René@Example.test', 'pw', log);
    expect(rene.ok && rene.auth.user.username).toBe('ren\u00e9@example.test');
  });

  it('refuses without checking the password when a rule or the login guard says so', async () => {
    const hooks: ConnectionHooks = {
      ...ALLOW_ALL,
      checkAuthAllowed: (_session, username) =>
        Promise.resolve(
          username === 'alice@example.test' ? { allow: false, reason: 'locked' } : { allow: true },
        ),
    };
    const ruled = fixture(hooks);
    expect(await checkPasswordLogin(ruled.services, connection, 'Alice@example.test ', 'right', log)).toEqual(
      {
        ok: false,
        reason: 'refused',
      },
    );
    expect(ruled.getCredentials).not.toHaveBeenCalled();

    const releaseAuthAttempt = vi.fn();
    const locked = fixture({ ...ALLOW_ALL, releaseAuthAttempt });
    for (let attempt = 0; attempt < 3; attempt++) {
      await checkPasswordLogin(locked.services, connection, 'alice@example.test', `wrong ${attempt}`, log);
    }
    locked.getCredentials.mockClear();
    expect(await checkPasswordLogin(locked.services, connection, 'alice@example.test', 'right', log)).toEqual(
      {
        ok: false,
        reason: 'refused',
      },
    );
    expect(locked.getCredentials).not.toHaveBeenCalled();
    // The rules' reserved attempt is given back: it was not a wrong password.
    expect(releaseAuthAttempt).toHaveBeenCalledTimes(1);
  });

  it('checks at most the limit of 200 guesses sent at once from one address', async () => {
    const { services, getCredentials } = fixture(ALLOW_ALL, 10);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        checkPasswordLogin(services, connection, 'alice@example.test', `guess ${index}`, log),
      ),
    );
    expect(getCredentials).toHaveBeenCalledTimes(10);
    expect(results.filter((result) => !result.ok && result.reason === 'failed')).toHaveLength(10);
    // The rest never reach a password check: turned away while too many wait (busy, a temporary
    // refusal), or refused once the address is locked out by the failures.
    const turnedAway = results.filter((result) => !result.ok && result.reason !== 'failed');
    expect(turnedAway).toHaveLength(190);
    expect(turnedAway.some((result) => !result.ok && result.reason === 'busy')).toBe(true);
  });
});
