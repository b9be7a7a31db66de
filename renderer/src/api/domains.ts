/** Mail domains (`/api/domains`): list, add, catch-all and DKIM switch, remove, DNS records. */
import type { DomainJson, DomainListItemJson } from '../../../server/admin/schemas.ts';
import { api, seg } from './client.ts';
import type { DnsRecordJson } from './settings.ts';

export type { DomainJson, DomainListItemJson };

export const DOMAINS_KEY = ['domains'] as const;

export const domainsApi = {
  list: () => api.get<{ domains: DomainListItemJson[] }>('/api/domains').then((body) => body.domains),
  create: (name: string) => api.post<{ domain: DomainJson }>('/api/domains', { name }),
  update: (name: string, patch: { catchAll?: string | null; dkim?: boolean }) =>
    api.patch<{ domain: DomainJson }>(`/api/domains/${seg(name)}`, patch),
  remove: (name: string) => api.del(`/api/domains/${seg(name)}`),
  dns: (name: string) =>
    api.get<{ domain: string; hostname: string; records: DnsRecordJson[] }>(`/api/domains/${seg(name)}/dns`),
};
