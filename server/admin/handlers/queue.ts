/**
 * The outbound queue (server/store/outbound.ts): list, one message, retry now, delete — what
 * `mallard queue` does, for the panel. The queue lives in the store, so every server process's
 * delivery worker sees a retry at its next poll; this process's worker is woken at once.
 */
import { z } from 'zod';
import { OUTBOUND_STATES, type OutboundMessage } from '../../store/outbound.ts';
import { notFound } from '../errors.ts';
import { route } from '../router.ts';
import { idParam } from './common.ts';

const TAG = 'Queue';

const recipientSchema = z.object({
  address: z.string(),
  state: z.enum(OUTBOUND_STATES as [string, ...string[]]),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable().describe('ISO 8601; null once delivered or bounced'),
  lastError: z.string().nullable(),
  warned: z.boolean().describe('the sender was told that delivery is delayed'),
  updatedAt: z.string(),
});

export const queuedMessageSchema = z
  .object({
    id: z.string(),
    userId: z.string().nullable(),
    sender: z.string(),
    size: z.number().int(),
    createdAt: z.string(),
    recipients: z.array(recipientSchema),
  })
  .meta({ id: 'QueuedMessage' });

const params = z.object({ id: idParam });

function messageJson(message: OutboundMessage): z.infer<typeof queuedMessageSchema> {
  return {
    id: message.id,
    userId: message.userId,
    sender: message.sender,
    size: message.size,
    createdAt: message.createdAt.toISOString(),
    recipients: message.recipients.map((recipient) => ({
      ...recipient,
      nextAttemptAt: recipient.nextAttemptAt?.toISOString() ?? null,
      updatedAt: recipient.updatedAt.toISOString(),
    })),
  };
}

export const queueRoutes = [
  route({
    method: 'GET',
    path: '/api/queue',
    operationId: 'listQueue',
    summary: 'The outbound queue, oldest first, with the state of every recipient',
    tag: TAG,
    response: {
      status: 200,
      schema: z.object({ messages: z.array(queuedMessageSchema) }),
      description: 'Queued messages',
    },
    async handler({ deps }) {
      return { messages: (await deps.store.listOutbound()).map(messageJson) };
    },
  }),

  route({
    method: 'GET',
    path: '/api/queue/{id}',
    operationId: 'getQueuedMessage',
    summary: 'One queued message',
    tag: TAG,
    params,
    response: { status: 200, schema: queuedMessageSchema, description: 'The message' },
    async handler({ params: { id }, deps }) {
      const message = await deps.store.getOutbound(id);
      if (!message) throw notFound(`queued message ${id}`);
      return messageJson(message);
    },
  }),

  route({
    method: 'POST',
    path: '/api/queue/{id}/retry',
    operationId: 'retryQueuedMessage',
    summary: 'Try the pending recipients of a message now',
    tag: TAG,
    params,
    response: { status: 200, schema: queuedMessageSchema, description: 'The message, due now' },
    async handler({ params: { id }, deps }) {
      const message = await deps.store.retryOutbound(id);
      deps.logger.info({ queue: id, via: 'admin' }, 'queued message retried');
      deps.outbound?.wake();
      return messageJson(message);
    },
  }),

  route({
    method: 'DELETE',
    path: '/api/queue/{id}',
    operationId: 'deleteQueuedMessage',
    summary: 'Remove a message from the queue (no report is sent)',
    tag: TAG,
    params,
    response: { status: 204, description: 'Deleted' },
    async handler({ params: { id }, deps }) {
      await deps.store.deleteOutbound(id);
      deps.logger.info({ queue: id, via: 'admin' }, 'queued message deleted');
    },
  }),
];
