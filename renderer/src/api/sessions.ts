/** Typed calls for live sessions (/api/sessions). */
import type { SessionJson } from '../../../server/admin/schemas.ts';
import { api, seg } from './client.ts';

export type Session = SessionJson;

export const sessionsApi = {
  list: () => api.get<{ sessions: Session[]; total: number }>('/api/sessions').then((r) => r.sessions),
  get: (id: string) => api.get<Session>(`/api/sessions/${seg(id)}`),
  kick: (id: string) => api.del(`/api/sessions/${seg(id)}`),
};
