/**
 * Checks a login against the account password and then the user's app passwords. Throttling of
 * failures is the connection rules' job (server/hooks); this only answers yes or no.
 *
 * argon2id costs tens of milliseconds by design, and phones reconnect all day (one IDLE connection
 * per folder), so a successful check is remembered for a few minutes as an HMAC under a key that
 * lives only in this process's memory — as Dovecot's auth cache does. The stored hash is part of
 * the HMAC input, so a password change (or a new app password) invalidates the entry at once.
 */
import crypto from 'node:crypto';
import type { Credentials, Store, User } from '../store/types.ts';
import { normaliseAppPassword, verifyPassword } from './password.ts';

export interface AuthSuccess {
  user: User;
  method: 'password' | 'app-password';
  appPasswordId: string | null;
}

const CACHE_TTL_MS = 10 * 60_000;
const CACHE_MAX_ENTRIES = 10_000;
const cacheKey = crypto.randomBytes(32);

interface CachedLogin {
  proof: Buffer;
  method: AuthSuccess['method'];
  appPasswordId: string | null;
  expires: number;
}

const verifiedLogins = new Map<string, CachedLogin>();

function proofOf(credentials: Credentials, password: string): Buffer {
  const hashes = [credentials.passwordHash, ...credentials.appPasswords.map((app) => app.hash)].join('\n');
  return crypto.createHmac('sha256', cacheKey).update(hashes).update('\0').update(password).digest();
}

function cachedSuccess(credentials: Credentials, password: string): AuthSuccess | null {
  const entry = verifiedLogins.get(credentials.user.id);
  if (!entry || entry.expires < Date.now()) return null;
  if (!crypto.timingSafeEqual(entry.proof, proofOf(credentials, password))) return null;
  return { user: credentials.user, method: entry.method, appPasswordId: entry.appPasswordId };
}

function remember(credentials: Credentials, password: string, success: AuthSuccess): void {
  if (verifiedLogins.size >= CACHE_MAX_ENTRIES) verifiedLogins.clear();
  verifiedLogins.set(credentials.user.id, {
    proof: proofOf(credentials, password),
    method: success.method,
    appPasswordId: success.appPasswordId,
    expires: Date.now() + CACHE_TTL_MS,
  });
}

async function verify(credentials: Credentials, password: string): Promise<AuthSuccess | null> {
  if (await verifyPassword(credentials.passwordHash, password)) {
    return { user: credentials.user, method: 'password', appPasswordId: null };
  }
  const appSecret = normaliseAppPassword(password);
  for (const appPassword of credentials.appPasswords) {
    if (await verifyPassword(appPassword.hash, appSecret)) {
      return { user: credentials.user, method: 'app-password', appPasswordId: appPassword.id };
    }
  }
  return null;
}

export async function authenticate(
  store: Store,
  username: string,
  password: string,
): Promise<AuthSuccess | null> {
  return (await checkCredentials(store, username, password)).success;
}

/** A check's answer, saying on failure whether the account exists (never told to the client). */
export type CredentialCheck = { success: AuthSuccess } | { success: null; accountExists: boolean };

export async function checkCredentials(
  store: Store,
  username: string,
  password: string,
): Promise<CredentialCheck> {
  if (username.length === 0 || username.length > 320 || password.length === 0 || password.length > 1024) {
    return { success: null, accountExists: false };
  }
  const credentials = await store.getCredentials(username);
  if (!credentials) return { success: null, accountExists: false };
  if (credentials.user.disabled) return { success: null, accountExists: true };
  const success = cachedSuccess(credentials, password) ?? (await verify(credentials, password));
  if (!success) return { success: null, accountExists: true };
  remember(credentials, password, success);
  if (success.appPasswordId) await store.touchAppPassword(success.appPasswordId);
  return { success };
}
