/** Live sessions of the server (every worker process of it): list, details, kick. */
import { z } from 'zod';
import { notFound } from '../errors.ts';
import { route } from '../router.ts';
import { protocolSchema, sessionListSchema, sessionSchema } from '../schemas.ts';
import { idParam } from './common.ts';

const TAG = 'Sessions';
const sessionParams = z.object({ id: idParam });

export const sessionRoutes = [
  route({
    method: 'GET',
    path: '/api/sessions',
    operationId: 'listSessions',
    summary: 'List live IMAP, POP3, LMTP and SMTP sessions',
    tag: TAG,
    query: z.object({
      protocol: protocolSchema.optional(),
      user: z.string().max(254).optional().describe('only sessions of this username'),
    }),
    response: { status: 200, schema: sessionListSchema, description: 'The sessions, oldest first' },
    async handler({ query, deps }) {
      const user = query.user?.trim().toLowerCase();
      const sessions = (await deps.sessions.list())
        .filter((session) => !query.protocol || session.protocol === query.protocol)
        .filter((session) => !user || session.user === user);
      return { sessions, total: sessions.length };
    },
  }),

  route({
    method: 'GET',
    path: '/api/sessions/{id}',
    operationId: 'getSession',
    summary: 'Show one session',
    tag: TAG,
    params: sessionParams,
    response: { status: 200, schema: sessionSchema, description: 'The session' },
    async handler({ params, deps }) {
      const session = await deps.sessions.get(params.id);
      if (!session) throw notFound(`session ${params.id}`);
      return session;
    },
  }),

  route({
    method: 'DELETE',
    path: '/api/sessions/{id}',
    operationId: 'kickSession',
    summary: "Close a session with its protocol's goodbye",
    description:
      'IMAP sends `* BYE`, POP3 `-ERR [SYS/TEMP]`, SMTP and LMTP `421`. Other sessions of the same ' +
      'user stay.',
    tag: TAG,
    params: sessionParams,
    response: { status: 204, description: 'Closed' },
    async handler({ params, deps }) {
      const session = await deps.sessions.get(params.id);
      if (!session || !(await deps.sessions.kick(params.id))) throw notFound(`session ${params.id}`);
      deps.logger.info(
        { session: params.id, protocol: session.protocol, user: session.user, via: 'admin' },
        'session kicked',
      );
    },
  }),
];
