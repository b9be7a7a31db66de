/**
 * What "Connect a device" reads: the server's host name and ports (settings and the live
 * listeners of the status), the certificates (is there a local CA to hand out?) and the CA itself.
 */
import type { StatusJson } from '../../../server/admin/schemas.ts';
import type { Certificate } from './certificates.ts';
import { ApiError, api } from './client.ts';

export type { StatusJson };

/** A certificate as the admin API describes it (server/admin/schemas.ts). */
export type CertificateSummary = Certificate;

/** The parts of the settings this page needs, read defensively from the generic record. */
export interface MailSettings {
  hostname: string;
  ports: {
    imap: number;
    imapTls: number;
    pop3: number;
    pop3Tls: number;
    smtp: number;
    submission: number;
    submissionTls: number;
  };
}

function num(record: unknown, key: string): number {
  const value = (record as Record<string, unknown> | undefined)?.[key];
  return typeof value === 'number' ? value : 0;
}

export function readMailSettings(settings: Record<string, unknown>): MailSettings {
  return {
    hostname: typeof settings.hostname === 'string' ? settings.hostname : 'localhost',
    ports: {
      imap: num(settings.imap, 'port'),
      imapTls: num(settings.imap, 'tls_port'),
      pop3: num(settings.pop3, 'port'),
      pop3Tls: num(settings.pop3, 'tls_port'),
      smtp: num(settings.smtp, 'port'),
      submission: num(settings.submission, 'port'),
      submissionTls: num(settings.submission, 'tls_port'),
    },
  };
}

/** A binary download through the panel host, with the API's error in words when it fails. */
async function fetchBytes(path: string): Promise<ArrayBuffer> {
  let response: Response;
  try {
    response = await fetch(path, { credentials: 'same-origin', headers: { 'X-Mallard-Panel': '1' } });
  } catch {
    throw new ApiError(
      0,
      'network',
      'The control panel cannot be reached. Is `mallard panel` still running?',
    );
  }
  if (response.ok) return response.arrayBuffer();
  let message = `The download failed (HTTP ${response.status}).`;
  let code: ApiError['code'] = 'unknown';
  try {
    const body = (await response.json()) as { error?: { code?: ApiError['code']; message?: string } };
    if (body.error?.message)
      message = body.error.message.charAt(0).toUpperCase() + body.error.message.slice(1);
    if (body.error?.code) code = body.error.code;
  } catch {
    // Not JSON: keep the words for the status.
  }
  throw new ApiError(response.status, code, message);
}

export function toBase64(bytes: ArrayBuffer): string {
  const view = new Uint8Array(bytes);
  let binary = '';
  for (let i = 0; i < view.length; i += 0x8000) {
    binary += String.fromCharCode(...view.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export const devicesApi = {
  settings: async () => readMailSettings(await api.get<Record<string, unknown>>('/api/settings')),
  status: () => api.get<StatusJson>('/api/status'),
  certificates: () => api.get<{ certificates: CertificateSummary[] }>('/api/certificates'),
  /** The local CA (DER), for the Apple profile to carry. */
  authorityDer: () => fetchBytes('/api/certificates/authority.der'),
};
