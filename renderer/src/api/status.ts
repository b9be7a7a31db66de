/**
 * What the dashboard reads: the server status, the certificates (for the expiry warning) and the
 * storage used, summed over the users (the admin API has no single figure for it).
 */
import type { StatusJson } from '../../../server/admin/schemas.ts';
import { api } from './client.ts';

export type { StatusJson };
export type ListenerJson = StatusJson['listeners'][number];
export type ConnectionCounts = StatusJson['connections'];

/** The fields of a certificate the dashboard needs (the full shape is in server/admin/schemas.ts). */
export interface CertificateSummary {
  id: string;
  kind: 'ca' | 'server' | 'imported' | 'self-signed';
  names: string[];
  subject: string;
  notAfter: string;
  active: boolean;
  expired: boolean;
}

export interface StorageUsage {
  usedBytes: number;
  users: number;
  /** True when there were more users than were summed. */
  partial: boolean;
}

const PAGE = 500;
const MAX_PAGES = 20;

export const statusApi = {
  status: () => api.get<StatusJson>('/api/status'),
  certificates: () => api.get<{ certificates: CertificateSummary[] }>('/api/certificates'),
  async storage(): Promise<StorageUsage> {
    let usedBytes = 0;
    let seen = 0;
    let total = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const list = await api.get<{ users: { usedBytes: number }[]; total: number }>(
        `/api/users?limit=${PAGE}&offset=${page * PAGE}`,
      );
      total = list.total;
      for (const user of list.users) usedBytes += user.usedBytes;
      seen += list.users.length;
      if (list.users.length < PAGE || seen >= total) break;
    }
    return { usedBytes, users: total, partial: seen < total };
  },
};

const WARN_DAYS = 30;
const DAY_MS = 86_400_000;

export type CertificateConcern =
  | { kind: 'expired'; certificate: CertificateSummary }
  | { kind: 'expiring'; certificate: CertificateSummary; days: number };

/** What, if anything, needs the admin's attention about the active certificate at `now`. */
export function certificateConcern(
  certificates: readonly CertificateSummary[],
  now = Date.now(),
): CertificateConcern | null {
  const active = certificates.find((certificate) => certificate.active);
  if (!active) return null;
  const left = new Date(active.notAfter).getTime() - now;
  if (active.expired || left <= 0) return { kind: 'expired', certificate: active };
  if (left <= WARN_DAYS * DAY_MS)
    return { kind: 'expiring', certificate: active, days: Math.ceil(left / DAY_MS) };
  return null;
}
