/** Typed calls for the outbound queue (/api/queue). */
import type { z } from 'zod';
import type { queuedMessageSchema } from '../../../server/admin/handlers/queue.ts';
import { api, seg } from './client.ts';

export type QueuedMessage = z.infer<typeof queuedMessageSchema>;

export const queueApi = {
  list: () => api.get<{ messages: QueuedMessage[] }>('/api/queue').then((r) => r.messages),
  retry: (id: string) => api.post<QueuedMessage>(`/api/queue/${seg(id)}/retry`),
  remove: (id: string) => api.del(`/api/queue/${seg(id)}`),
};
