/** The configuration in force (secrets masked) and the log tail. */
import { z } from 'zod';
import type { Config } from '../../config/schema.ts';
import { route } from '../router.ts';
import { logsSchema, settingsSchema } from '../schemas.ts';

const TAG = 'Settings';
const MAX_LINES = 1000;

/** Hides the password of a URI with credentials (mongodb://user:pass@host). */
function maskUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

/** The configuration without secrets: today only the MongoDB URI can carry one. */
export function publicSettings(config: Config): Record<string, unknown> {
  return {
    ...config,
    store: { ...config.store, mongodb: { ...config.store.mongodb, uri: maskUri(config.store.mongodb.uri) } },
  };
}

export const settingsRoutes = [
  route({
    method: 'GET',
    path: '/api/settings',
    operationId: 'getSettings',
    summary: 'The configuration in force, secrets masked',
    tag: TAG,
    response: { status: 200, schema: settingsSchema, description: 'The settings' },
    async handler({ deps }) {
      return publicSettings(deps.config);
    },
  }),

  route({
    method: 'GET',
    path: '/api/logs',
    operationId: 'getLogs',
    summary: 'The newest log lines',
    description: `At most ${MAX_LINES} lines, oldest first; the server keeps the last few hundred.`,
    tag: TAG,
    query: z.object({ lines: z.coerce.number().int().min(1).max(MAX_LINES).default(100) }),
    response: { status: 200, schema: logsSchema, description: 'The log lines' },
    async handler({ query, deps }) {
      return { lines: deps.logs?.tail(query.lines) ?? [] };
    },
  }),
];
