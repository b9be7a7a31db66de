/** Import jobs of a user: from IMAP or an uploaded file (server/admin/handlers/imports.ts). */
import { api, seg } from './client.ts';

export interface ImportJobJson {
  id: string;
  userId: string;
  kind: 'imap' | 'file';
  /** The IMAP source; null for an uploaded file. */
  source: { host: string; port: number; security: 'tls' | 'starttls' | 'plain'; login: string } | null;
  /** The uploaded file; null for an IMAP source. */
  file: { name: string; bytes: number } | null;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  passwordKept: boolean;
  startedAt: string;
  finishedAt: string | null;
  messages: { total: number; done: number; imported: number; duplicates: number };
  bytes: { total: number; done: number };
  etaSeconds: number | null;
  skipped: Array<{ folder: string; uid: number | null; reason: string }>;
  error: string | null;
}

export interface NewImport {
  host: string;
  port?: number;
  security: 'tls' | 'starttls' | 'plain';
  login: string;
  password: string;
  includeAllMail: boolean;
  keepPassword: boolean;
}

export const importKeys = { of: (userId: string) => ['imports', userId] as const };

export const importsApi = {
  list: (userId: string) => api.get<{ jobs: ImportJobJson[] }>(`/api/users/${seg(userId)}/imports`),
  start: (userId: string, body: NewImport) =>
    api.post<ImportJobJson>(`/api/users/${seg(userId)}/imports`, body),
  /** Where a file is uploaded to import it (renderer/src/api/upload.ts streams it). */
  uploadPath: (userId: string, name: string) =>
    `/api/users/${seg(userId)}/imports/upload?name=${encodeURIComponent(name)}`,
  cancel: (jobId: string) => api.post<ImportJobJson>(`/api/imports/${seg(jobId)}/cancel`),
  rerun: (jobId: string) => api.post<ImportJobJson>(`/api/imports/${seg(jobId)}/rerun`, {}),
};
