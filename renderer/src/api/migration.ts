/** Moving the mail from the embedded store to MongoDB (the panel host runs `mallard db migrate`). */
import type { MigrationStatus } from '../../../app/panel/migration.ts';
import { api } from './client.ts';

export type { MigrationStatus };

export const migrationApi = {
  status: () => api.get<MigrationStatus>('/panel/store/migration'),
  start: (uri: string) => api.post<MigrationStatus>('/panel/store/migration', { uri }),
};
