/** Typed calls for backups (/api/backups). */
import type { z } from 'zod';
import type { backupStatusSchema } from '../../../server/admin/schemas.ts';
import { api } from './client.ts';

export type BackupStatus = z.infer<typeof backupStatusSchema>;

export const BACKUPS_KEY = ['backups'];

export const backupsApi = {
  status: () => api.get<BackupStatus>('/api/backups'),
  /** Starts a backup; GET /api/backups follows it. */
  run: () => api.post<BackupStatus>('/api/backups/run'),
  /** Starts restoring one user or mailbox; GET /api/backups follows it (`restore`). */
  restore: (body: { backup: string; user: string; mailbox?: string }) =>
    api.post<BackupStatus>('/api/backups/restore', body),
  /** Asks the running restore to stop after the batch in flight. */
  cancelRestore: () => api.post<BackupStatus>('/api/backups/restore/cancel'),
};
