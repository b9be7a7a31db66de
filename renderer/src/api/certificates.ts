/** Typed calls for TLS certificates (/api/certificates). */
import type { certificateSchema } from '../../../server/admin/schemas.ts';
import type { z } from 'zod';
import { api, seg } from './client.ts';

export type Certificate = z.infer<typeof certificateSchema>;
export type KeyType = 'ecdsa' | 'rsa';

export interface AuthorityInput {
  commonName?: string;
  keyType?: KeyType;
}

export interface ServerCertificateInput {
  names: string[];
  keyType?: KeyType;
  activate?: boolean;
}

export interface ImportInput {
  certPem: string;
  keyPem: string;
  activate?: boolean;
}

/** Where the browser downloads the local CA (same origin, through the panel host). */
export const AUTHORITY_PEM_URL = '/api/certificates/authority.pem';
export const AUTHORITY_DER_URL = '/api/certificates/authority.der';

export const certificatesApi = {
  list: () =>
    api.get<{ certificates: Certificate[] }>('/api/certificates').then((result) => result.certificates),
  createAuthority: (input: AuthorityInput) =>
    api.post<Certificate>('/api/certificates', { type: 'authority', ...input }),
  issue: (input: ServerCertificateInput) =>
    api.post<Certificate>('/api/certificates', { type: 'server', ...input }),
  import: (input: ImportInput) => api.post<Certificate>('/api/certificates', { type: 'import', ...input }),
  activate: (id: string) => api.post<Certificate>(`/api/certificates/${seg(id)}/activate`),
  remove: (id: string) => api.del(`/api/certificates/${seg(id)}`),
};

/** The machine's host name as the server is configured (`hostname` in /api/settings), or null. */
export async function machineHostname(): Promise<string | null> {
  const settings = await api.get<Record<string, unknown>>('/api/settings');
  return typeof settings.hostname === 'string' && settings.hostname !== '' ? settings.hostname : null;
}
