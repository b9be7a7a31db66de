/** Typed calls for users, their aliases and app passwords (server/admin/handlers/users.ts etc.). */
import type {
  AddressJson,
  AppPasswordJson,
  UserDetailJson,
  UserJson,
} from '../../../server/admin/schemas.ts';
import { api, seg } from './client.ts';

export type { AddressJson, AppPasswordJson, UserDetailJson, UserJson };

/** An entry of a user's spam allow or block list (server/admin/handlers/spam-lists.ts). */
export interface SpamListEntryJson {
  list: 'allow' | 'block';
  pattern: string;
  createdAt: string;
}

export interface UserList {
  users: UserJson[];
  total: number;
  offset: number;
  limit: number;
}

export interface NewUser {
  username: string;
  name?: string;
  quotaBytes?: number;
  password?: string;
  generate?: boolean;
}

export interface UserChanges {
  name?: string;
  quotaBytes?: number;
  disabled?: boolean;
  saveSentCopy?: boolean;
  /** IMAP UIDONLY offered; null: the server's default. */
  uidOnly?: boolean | null;
  password?: string;
}

export interface CreatedUser {
  user: UserJson;
  /** Only when the server generated it: shown once, never again. */
  password?: string;
}

export interface CreatedAppPassword {
  appPassword: AppPasswordJson;
  secret: string;
}

export interface UserQuery {
  search?: string;
  offset: number;
  limit: number;
}

function listPath({ search, offset, limit }: UserQuery): string {
  const params = new URLSearchParams({ offset: String(offset), limit: String(limit) });
  if (search) params.set('search', search);
  return `/api/users?${params.toString()}`;
}

export const usersApi = {
  list: (query: UserQuery) => api.get<UserList>(listPath(query)),
  create: (user: NewUser) => api.post<CreatedUser>('/api/users', user),
  get: (id: string) => api.get<UserDetailJson>(`/api/users/${seg(id)}`),
  update: (id: string, changes: UserChanges) => api.patch<UserJson>(`/api/users/${seg(id)}`, changes),
  remove: (id: string) => api.del(`/api/users/${seg(id)}`),

  aliases: (id: string) => api.get<{ addresses: AddressJson[] }>(`/api/users/${seg(id)}/aliases`),
  addAlias: (id: string, address: string) =>
    api.post<AddressJson>(`/api/users/${seg(id)}/aliases`, { address }),
  removeAlias: (id: string, address: string) => api.del(`/api/users/${seg(id)}/aliases/${seg(address)}`),

  spamLists: (id: string) => api.get<{ entries: SpamListEntryJson[] }>(`/api/users/${seg(id)}/spam-lists`),
  setSpamEntry: (id: string, list: 'allow' | 'block', pattern: string) =>
    api.post<SpamListEntryJson>(`/api/users/${seg(id)}/spam-lists`, { list, pattern }),
  removeSpamEntry: (id: string, pattern: string) =>
    api.del(`/api/users/${seg(id)}/spam-lists/${seg(pattern)}`),

  appPasswords: (id: string) =>
    api.get<{ appPasswords: AppPasswordJson[] }>(`/api/users/${seg(id)}/app-passwords`),
  createAppPassword: (id: string, label: string) =>
    api.post<CreatedAppPassword>(`/api/users/${seg(id)}/app-passwords`, { label }),
  revokeAppPassword: (id: string, appId: string) =>
    api.del(`/api/users/${seg(id)}/app-passwords/${seg(appId)}`),
};

/** Query keys, so every page invalidates the same entries. */
export const userKeys = {
  all: ['users'] as const,
  list: (query: UserQuery) => ['users', 'list', query] as const,
  detail: (id: string) => ['users', 'detail', id] as const,
  aliases: (id: string) => ['users', 'aliases', id] as const,
  appPasswords: (id: string) => ['users', 'app-passwords', id] as const,
  spamLists: (id: string) => ['users', 'spam-lists', id] as const,
};

/** The same check the store makes (server/store/spam.ts), for feedback as you type. */
const SENDER = /^@?([^\s@<>,;]+@)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i;

export function senderProblem(value: string): string | null {
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (trimmed.length > 257) return 'At most 256 characters';
  if (!SENDER.test(trimmed)) return 'A sender address (name@example.com) or a domain (example.com)';
  return null;
}

/** The same check the API makes (server/admin/handlers/common.ts EMAIL), for feedback as you type. */
export const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * A warning for an address the server takes but the internet cannot reach: its domain has no dot
 * ("alice@localhost", "bob@mail"), so no other server can look up where to send mail for it.
 */
export function emailWarning(value: string): string | null {
  const trimmed = value.trim();
  if (trimmed === '' || emailProblem(trimmed)) return null;
  const domain = trimmed.slice(trimmed.lastIndexOf('@') + 1);
  if (domain.includes('.')) return null;
  return `"${domain}" has no dot: mail from other servers cannot reach it (fine for mail that stays on this server)`;
}

export function emailProblem(value: string): string | null {
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (trimmed.length > 254) return 'At most 254 characters';
  if (!EMAIL.test(trimmed)) return 'An email address, like name@example.com';
  return null;
}
