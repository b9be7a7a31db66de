/**
 * Typed calls for a user's filters, forwarding and vacation (server/admin/handlers/filters.ts), the
 * raw Sieve scripts behind them (server/admin/handlers/sieve.ts) and the script check.
 */
import type {
  FilterJson,
  FilterSettingsJson,
  FilterTestResultJson,
  ForwardingJson,
  UserFiltersJson,
  VacationJson,
} from '../../../server/admin/schemas.ts';
import { api, seg } from './client.ts';

export type {
  FilterJson,
  FilterSettingsJson,
  FilterTestResultJson,
  ForwardingJson,
  UserFiltersJson,
  VacationJson,
};

export interface SieveScriptJson {
  name: string;
  active: boolean;
  content: string;
  updatedAt: string;
}

export interface SieveCheck {
  ok: boolean;
  error: { message: string; line: number; column: number } | null;
}

export const filterKeys = {
  filters: (id: string) => ['users', 'filters', id] as const,
  scripts: (id: string) => ['users', 'sieve-scripts', id] as const,
};

export const filtersApi = {
  get: (id: string) => api.get<UserFiltersJson>(`/api/users/${seg(id)}/filters`),
  save: (id: string, settings: FilterSettingsJson, overwrite: boolean) =>
    api.put<UserFiltersJson>(`/api/users/${seg(id)}/filters`, { ...settings, overwrite }),
  setForwarding: (id: string, forwarding: ForwardingJson | null, overwrite: boolean) =>
    api.put<UserFiltersJson>(`/api/users/${seg(id)}/forwarding`, { forwarding, overwrite }),
  setVacation: (id: string, vacation: VacationJson | null, overwrite: boolean) =>
    api.put<UserFiltersJson>(`/api/users/${seg(id)}/vacation`, { vacation, overwrite }),
  test: (id: string, given: { settings?: FilterSettingsJson; script?: string }) =>
    api.post<{ results: FilterTestResultJson[] }>(`/api/users/${seg(id)}/filters/test`, {
      ...given,
      limit: 20,
    }),
  scripts: (id: string) => api.get<{ scripts: SieveScriptJson[] }>(`/api/users/${seg(id)}/sieve-scripts`),
  putScript: (id: string, name: string, content: string) =>
    api.put<SieveScriptJson>(`/api/users/${seg(id)}/sieve-scripts/${seg(name)}`, { content }),
  activateScript: (id: string, name: string) =>
    api.post<void>(`/api/users/${seg(id)}/sieve-scripts/${seg(name)}/activate`),
  check: (content: string) => api.post<SieveCheck>('/api/sieve/check', { content }),
};
