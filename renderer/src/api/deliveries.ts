/** The delivery history per day (/api/deliveries): stored here, sent on, deferred, bounced. */
import type { z } from 'zod';
import type { deliveryDaySchema } from '../../../server/admin/schemas.ts';
import { api } from './client.ts';

export type DeliveryDay = z.infer<typeof deliveryDaySchema>;

export const deliveriesApi = {
  history: (days: number) =>
    api.get<{ days: DeliveryDay[] }>(`/api/deliveries?days=${days}`).then((answer) => answer.days),
};
