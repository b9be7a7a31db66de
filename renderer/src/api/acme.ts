/** Typed calls for certificates from an ACME CA (/api/acme). */
import type { acmeStatusSchema } from '../../../server/admin/schemas.ts';
import type { z } from 'zod';
import { api } from './client.ts';

export type AcmeStatus = z.infer<typeof acmeStatusSchema>;
export type AcmeChallenge = AcmeStatus['challenge'];

export interface AcmeIssueInput {
  acceptTerms?: boolean;
  challenge?: AcmeChallenge;
}

export const acmeApi = {
  status: () => api.get<AcmeStatus>('/api/acme'),
  /** Starts a request; the status follows by the acme.changed event. */
  issue: (input: AcmeIssueInput) => api.post<AcmeStatus>('/api/acme/issue', input),
  confirm: () => api.post<AcmeStatus>('/api/acme/confirm'),
};

/** "Let's Encrypt" for its directories, else the directory's host name. */
export function caName(directoryUrl: string): string {
  try {
    const host = new URL(directoryUrl).hostname;
    if (host.endsWith('api.letsencrypt.org')) {
      return host.startsWith('acme-staging') ? "Let's Encrypt (staging)" : "Let's Encrypt";
    }
    return host;
  } catch {
    return directoryUrl;
  }
}
