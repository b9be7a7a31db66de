/**
 * Backups (server/backup/): the status the Backups page and the dashboard show (last success,
 * size, next run, the last failure) and "Back up now". Without the backup service (an embedder's
 * small setup) these routes answer 501.
 */
import { BackupServiceError } from '../../backup/service.ts';
import type { AdminDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { z } from 'zod';
import { route } from '../router.ts';
import { backupStatusSchema } from '../schemas.ts';

const TAG = 'Backups';

function service(deps: AdminDeps): NonNullable<AdminDeps['backups']> {
  if (!deps.backups) throw new ApiError('not_implemented', 'backups are not available in this server');
  return deps.backups;
}

export const backupRoutes = [
  route({
    method: 'GET',
    path: '/api/backups',
    operationId: 'getBackups',
    summary: 'Backups: destination, last run and last success, next run, the backups on disk',
    tag: TAG,
    response: { status: 200, schema: backupStatusSchema, description: 'The status' },
    handler({ deps }) {
      return Promise.resolve(backupStatusSchema.parse(service(deps).status()));
    },
  }),

  route({
    method: 'POST',
    path: '/api/backups/run',
    operationId: 'runBackup',
    summary: 'Back up now',
    description:
      'Starts a backup into backup.destination and answers at once (running true); follow GET ' +
      '/api/backups. 409 when a backup runs already, 422 when no destination is set.',
    tag: TAG,
    response: { status: 200, schema: backupStatusSchema, description: 'The status after starting' },
    async handler({ deps }) {
      try {
        return backupStatusSchema.parse(await service(deps).runNow());
      } catch (error) {
        if (error instanceof BackupServiceError) {
          if (error.code === 'busy') throw new ApiError('conflict', error.message);
          throw new ApiError('validation_failed', error.message, [
            { path: 'backup.destination', message: 'not set' },
          ]);
        }
        throw error;
      }
    },
  }),

  route({
    method: 'POST',
    path: '/api/backups/restore',
    operationId: 'restoreBackup',
    summary: 'Restore one user, or one of their mailboxes, from a backup into this server',
    description:
      'Starts the restore and answers at once; follow `restore` in GET /api/backups (phase, messages, ' +
      'then per mailbox whether the UIDs were kept). The backup is verified first: a damaged one restores ' +
      'nothing. The whole server is restored only into a new data directory, with `mallard backup ' +
      'restore FILE`. 404 for an unknown backup, 409 while a restore runs.',
    tag: TAG,
    body: z.strictObject({
      backup: z.string().min(1).describe('a backup of the destination, by name (GET /api/backups)'),
      user: z.string().min(1).describe('the user to restore (username)'),
      mailbox: z.string().min(1).optional().describe('only this mailbox of the user'),
    }),
    response: { status: 200, schema: backupStatusSchema, description: 'The status after starting' },
    async handler({ body, deps }) {
      try {
        return backupStatusSchema.parse(
          await service(deps).restoreNow(body.backup, body.user, body.mailbox ?? null),
        );
      } catch (error) {
        if (!(error instanceof BackupServiceError)) throw error;
        if (error.code === 'busy') throw new ApiError('conflict', error.message);
        if (error.code === 'not_found') throw new ApiError('not_found', error.message);
        throw new ApiError('validation_failed', error.message, [
          { path: error.code === 'invalid' ? 'user' : 'backup.destination', message: error.message },
        ]);
      }
    },
  }),

  route({
    method: 'POST',
    path: '/api/backups/restore/cancel',
    operationId: 'cancelRestore',
    summary: 'Cancel the running restore',
    description:
      'Asks the running restore to stop; it stops after the batch of messages in flight (phase ' +
      '`cancelling`, then `cancelled` with what was restored until then). What is in stays: restoring ' +
      'the same user again adds the rest. 404 when no restore runs.',
    tag: TAG,
    response: { status: 200, schema: backupStatusSchema, description: 'The status after asking' },
    handler({ deps }) {
      try {
        return Promise.resolve(backupStatusSchema.parse(service(deps).cancelRestore()));
      } catch (error) {
        if (error instanceof BackupServiceError) throw new ApiError('not_found', error.message);
        throw error;
      }
    },
  }),
];
