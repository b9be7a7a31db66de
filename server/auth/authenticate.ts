/**
 * Checks a login against the account password and then the user's app passwords. Throttling of
 * failures is the connection rules' job (server/hooks); this only answers yes or no.
 */
import type { Store, User } from '../store/types.ts';
import { normaliseAppPassword, verifyPassword } from './password.ts';

export interface AuthSuccess {
  user: User;
  method: 'password' | 'app-password';
  appPasswordId: string | null;
}

export async function authenticate(
  store: Store,
  username: string,
  password: string,
): Promise<AuthSuccess | null> {
  if (username.length === 0 || username.length > 320 || password.length === 0 || password.length > 1024) {
    return null;
  }
  const credentials = await store.getCredentials(username);
  if (!credentials || credentials.user.disabled) return null;
  if (await verifyPassword(credentials.passwordHash, password)) {
    return { user: credentials.user, method: 'password', appPasswordId: null };
  }
  const appSecret = normaliseAppPassword(password);
  for (const appPassword of credentials.appPasswords) {
    if (await verifyPassword(appPassword.hash, appSecret)) {
      await store.touchAppPassword(appPassword.id);
      return { user: credentials.user, method: 'app-password', appPasswordId: appPassword.id };
    }
  }
  return null;
}
