/**
 * The configuration in force (secrets masked), changes to it, the MongoDB connection test, and
 * the log tail. Changes are written into the configuration file (comments and order kept) and take
 * effect when the server restarts: the listeners and the store are made at start-up only.
 */
import { z } from 'zod';
import type { Config } from '../../config/schema.ts';
import { ApiError } from '../errors.ts';
import { route } from '../router.ts';
import { logsSchema, settingsSchema } from '../schemas.ts';
import { writeSettings } from './settings-file.ts';

const TAG = 'Settings';

/** What GET /api/settings shows for a secret that is set. */
const SECRET_MASK = '********';

const port = z.number().int().min(0).max(65535).describe('0 also means no listener');
const toggle = z.boolean().describe('false: the protocol does not listen at all (its ports are kept)');

export const settingsUpdateSchema = z
  .strictObject({
    hostname: z
      .string()
      .trim()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.-]+$/, 'a host name (letters, digits, dots, hyphens)')
      .optional(),
    imap: z.strictObject({ enabled: toggle, port, tls_port: port }).partial().optional(),
    pop3: z.strictObject({ enabled: toggle, port, tls_port: port }).partial().optional(),
    lmtp: z.strictObject({ enabled: toggle, port }).partial().optional(),
    smtp: z.strictObject({ enabled: toggle, port }).partial().optional(),
    limits: z
      .strictObject({
        max_message_size: z
          .number()
          .int()
          .min(1024)
          .max(2 ** 40)
          .describe('bytes'),
        max_line_length: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .describe('bytes'),
      })
      .partial()
      .optional(),
    outbound: z
      .strictObject({
        relay: z
          .strictObject({
            host: z
              .string()
              .trim()
              .max(253)
              .regex(/^[A-Za-z0-9.:[\]-]*$/, 'a host name or address (empty: deliver to MX hosts directly)'),
            port: z.number().int().min(1).max(65535),
            tls: z.enum(['starttls', 'tls', 'none']),
            username: z.string().max(512),
            password: z
              .string()
              .max(1024)
              .describe(`the masked "${SECRET_MASK}" from GET /api/settings leaves it unchanged`),
          })
          .partial(),
      })
      .partial()
      .optional(),
    store: z
      .strictObject({
        engine: z.enum(['sqlite', 'mongodb']),
        mongodb: z
          .strictObject({
            uri: z
              .string()
              .max(4096)
              .describe(
                'mongodb:// or mongodb+srv://; the masked form from GET /api/settings leaves it unchanged',
              ),
          })
          .partial(),
      })
      .partial()
      .optional(),
  })
  .describe('Only the keys sent are changed.')
  .meta({ id: 'SettingsUpdate' });

const settingsUpdatedSchema = z
  .object({
    settings: settingsSchema,
    restartRequired: z.literal(true),
    file: z.string().describe('the configuration file that was written'),
    warnings: z.array(z.string()).describe('e.g. a key an environment variable overrides'),
  })
  .meta({ id: 'SettingsUpdated' });

const connectionTestSchema = z
  .object({
    ok: z.boolean(),
    detail: z.string().describe('what answered, or why nothing did'),
    version: z.string().optional(),
  })
  .meta({ id: 'ConnectionTest' });

const MAX_LINES = 1000;

/** Hides the password of a URI with credentials (mongodb://user:pass@host). */
export function maskUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

/** A secret as the settings show it: whether one is set, never what it is. */
const masked = (secret: string): string => (secret ? SECRET_MASK : '');

/**
 * The configuration without secrets: the MongoDB URI's password, the relay's password, rspamd's
 * controller password, the ACME DNS update key.
 */
export function publicSettings(config: Config): Record<string, unknown> {
  const { acme, outbound, spam } = config;
  return {
    ...config,
    store: { ...config.store, mongodb: { ...config.store.mongodb, uri: maskUri(config.store.mongodb.uri) } },
    outbound: { ...outbound, relay: { ...outbound.relay, password: masked(outbound.relay.password) } },
    spam: { ...spam, rspamd_password: masked(spam.rspamd_password) },
    acme: { ...acme, dns: { ...acme.dns, tsig_secret: masked(acme.dns.tsig_secret) } },
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
    method: 'PUT',
    path: '/api/settings',
    operationId: 'updateSettings',
    summary: 'Change hostname, ports, protocols on/off, limits, sending (relay), store engine and URI',
    description:
      'Writes the configuration file (the one given with --config or MALLARD_CONFIG, else <data_dir>/mallard.yaml), keeping its comments. The server uses the new values after a restart.',
    tag: TAG,
    body: settingsUpdateSchema,
    response: {
      status: 200,
      schema: settingsUpdatedSchema,
      description: 'The settings the next start will use',
    },
    async handler({ body, deps }) {
      const update = structuredClone(body) as Record<string, unknown>;
      const store = body.store;
      // The masked URI that GET returned, sent back unchanged, keeps the real one.
      if (store?.mongodb?.uri !== undefined && store.mongodb.uri === maskUri(deps.config.store.mongodb.uri)) {
        const copy = update.store as { mongodb?: { uri?: string } };
        delete copy.mongodb!.uri;
      }
      // The masked relay password sent back unchanged keeps the real one.
      if (body.outbound?.relay?.password === SECRET_MASK) {
        delete (update.outbound as { relay: { password?: string } }).relay.password;
      }
      const written = writeSettings(deps.config, update);
      return {
        settings: publicSettings(written.config),
        restartRequired: true as const,
        file: written.file,
        warnings: written.warnings,
      };
    },
  }),

  route({
    method: 'POST',
    path: '/api/store/test-connection',
    operationId: 'testStoreConnection',
    summary: 'Try a MongoDB URI (3 s timeout)',
    description: 'Connects, reads the version and topology, and disconnects. Nothing is changed.',
    tag: TAG,
    body: z.object({ uri: z.string().min(1).max(4096) }).meta({ id: 'ConnectionTestRequest' }),
    response: { status: 200, schema: connectionTestSchema, description: 'The outcome, ok or not' },
    async handler({ body, deps }) {
      const configured = deps.config.store.mongodb.uri;
      const uri = configured && body.uri === maskUri(configured) ? configured : body.uri;
      if (!/^mongodb(\+srv)?:\/\//.test(uri))
        throw new ApiError('validation_failed', 'uri: a mongodb:// or mongodb+srv:// URI', [
          { path: 'body.uri', message: 'a mongodb:// or mongodb+srv:// URI' },
        ]);
      // Loaded when asked: the MongoDB driver costs every process that loads it some 20 MB (bson's
      // 17 MB serialisation buffer among it), which a server on the embedded store never needs.
      const { probeMongo } = await import('../../store/mongodb/probe.ts');
      return probeMongo(uri);
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
