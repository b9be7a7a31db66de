/** Moving the mail from the embedded store to MongoDB (the panel host runs `mallard db migrate`). */
import { api } from './client.ts';

export interface MigrationStatus {
  state: 'idle' | 'running' | 'succeeded' | 'failed';
  target: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  messagesDone: number;
  messagesTotal: number;
  lines: string[];
  error: string | null;
}

export const migrationApi = {
  status: () => api.get<MigrationStatus>('/panel/store/migration'),
  start: (uri: string) => api.post<MigrationStatus>('/panel/store/migration', { uri }),
};
