/**
 * A user's spam allow and block lists (server/store/spam.ts): sender addresses and domains. An
 * allowed sender's mail reaches the user's INBOX whatever its spam score (not past a DMARC
 * reject); a blocked sender's goes to the user's Junk.
 */
import { z } from 'zod';
import { route } from '../router.ts';
import { idParam, userIdParams } from './common.ts';
import { requireUser } from './users.ts';

const TAG = 'Spam lists';

const pattern = z
  .string()
  .min(1)
  .max(257)
  .describe(
    'a sender address (boss@example.com) or a domain (example.com or @example.com, subdomains included)',
  );

const entrySchema = z.object({
  list: z.enum(['allow', 'block']),
  pattern: z.string().describe('lower case; a domain without its @'),
  createdAt: z.string().describe('ISO 8601'),
});

function entryOf(entry: { list: 'allow' | 'block'; pattern: string; createdAt: Date }) {
  return { list: entry.list, pattern: entry.pattern, createdAt: entry.createdAt.toISOString() };
}

export const spamListRoutes = [
  route({
    method: 'GET',
    path: '/api/users/{id}/spam-lists',
    operationId: 'listSpamEntries',
    summary: "List a user's allowed and blocked senders",
    tag: TAG,
    params: userIdParams,
    response: {
      status: 200,
      schema: z.object({ entries: z.array(entrySchema) }),
      description: 'The entries, by pattern',
    },
    async handler({ params, deps }) {
      const user = await requireUser(deps.store, params.id);
      return { entries: (await deps.store.listSpamEntries(user.id)).map(entryOf) };
    },
  }),

  route({
    method: 'POST',
    path: '/api/users/{id}/spam-lists',
    operationId: 'setSpamEntry',
    summary: 'Allow or block a sender address or domain',
    description: 'A pattern already on the other list moves to this one.',
    tag: TAG,
    params: userIdParams,
    body: z.strictObject({ list: z.enum(['allow', 'block']), pattern }),
    response: { status: 201, schema: entrySchema, description: 'The entry' },
    async handler({ params, body, deps }) {
      const user = await requireUser(deps.store, params.id);
      const entry = await deps.store.setSpamEntry(user.id, body.list, body.pattern);
      deps.logger.info(
        { user: user.username, list: entry.list, pattern: entry.pattern, via: 'admin' },
        'spam list entry set',
      );
      return entryOf(entry);
    },
  }),

  route({
    method: 'DELETE',
    path: '/api/users/{id}/spam-lists/{pattern}',
    operationId: 'removeSpamEntry',
    summary: "Take a sender address or domain off a user's lists",
    tag: TAG,
    params: z.object({ id: idParam, pattern }),
    response: { status: 204, description: 'Removed' },
    async handler({ params, deps }) {
      const user = await requireUser(deps.store, params.id);
      await deps.store.removeSpamEntry(user.id, params.pattern);
      deps.logger.info(
        { user: user.username, pattern: params.pattern, via: 'admin' },
        'spam list entry removed',
      );
    },
  }),
];
