import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite/index.ts';
import type { Store } from '../store/types.ts';
import { authenticate } from './authenticate.ts';
import { generateAppPassword, hashPassword, normaliseAppPassword } from './password.ts';

let store: Store;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-auth-'));
  store = await openSqliteStore(dir);
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('authenticate', () => {
  it('accepts the account password and refuses others', async () => {
    const user = await store.createUser({
      username: 'Ann@Example.test',
      passwordHash: await hashPassword('pw one'),
    });
    expect((await authenticate(store, 'ann@example.test', 'pw one'))?.user.id).toBe(user.id);
    expect((await authenticate(store, 'ANN@example.test', 'pw one'))?.method).toBe('password');
    expect(await authenticate(store, 'ann@example.test', 'pw two')).toBeNull();
    expect(await authenticate(store, 'nobody@example.test', 'pw one')).toBeNull();
    expect(await authenticate(store, 'ann@example.test', '')).toBeNull();
  });

  it('accepts an app password with or without spaces, and records its use', async () => {
    const user = await store.createUser({
      username: 'ben@example.test',
      passwordHash: await hashPassword('main'),
    });
    const secret = generateAppPassword();
    expect(secret).toMatch(/^[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}$/);
    const app = await store.createAppPassword(
      user.id,
      'phone',
      await hashPassword(normaliseAppPassword(secret)),
    );
    const result = await authenticate(store, 'ben@example.test', secret.replace(/ /g, ''));
    expect(result).toMatchObject({ method: 'app-password', appPasswordId: app.id });
    expect((await store.listAppPasswords(user.id))[0]!.lastUsedAt).not.toBeNull();
  });

  it('forgets a cached login when the password changes', async () => {
    const user = await store.createUser({
      username: 'cat@example.test',
      passwordHash: await hashPassword('old'),
    });
    expect(await authenticate(store, 'cat@example.test', 'old')).not.toBeNull();
    expect(await authenticate(store, 'cat@example.test', 'old')).not.toBeNull(); // from the cache
    await store.setPasswordHash(user.id, await hashPassword('new'));
    expect(await authenticate(store, 'cat@example.test', 'old')).toBeNull();
    expect(await authenticate(store, 'cat@example.test', 'new')).not.toBeNull();
  });

  it('refuses a disabled user even with the right password', async () => {
    const user = await store.createUser({
      username: 'dan@example.test',
      passwordHash: await hashPassword('pw'),
    });
    expect(await authenticate(store, 'dan@example.test', 'pw')).not.toBeNull();
    await store.updateUser(user.id, { disabled: true });
    expect(await authenticate(store, 'dan@example.test', 'pw')).toBeNull();
  });
});
