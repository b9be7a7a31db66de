/**
 * Spam filtering settings (the `spam` section of the configuration), changed from the panel's
 * Settings page: written into the configuration file like every setting, and applied at once, in
 * every worker process, without a restart (the next message is checked with them). The "Detect"
 * probe finds rspamd on this machine (server/spam/detect.ts).
 */
import { z } from 'zod';
import { detectRspamd } from '../../spam/detect.ts';
import { route } from '../router.ts';
import { publicSettings } from './settings.ts';
import { writeSettings } from './settings-file.ts';

const TAG = 'Spam filtering';
const SECRET_MASK = '********';

const url = z
  .string()
  .trim()
  .max(2048)
  .regex(/^(https?:\/\/\S+)?$/, 'an http:// or https:// URL (or empty)');
const score = z.number().min(-10000).max(10000);

export const spamSettingsUpdateSchema = z
  .strictObject({
    enabled: z.boolean().describe('false: no spam checks at all (sender authentication stays)'),
    rspamd_url: url.describe("rspamd's scanning worker; empty: Mallard's own checks"),
    rspamd_controller_url: url.describe("rspamd's controller, for learning from Junk moves"),
    rspamd_password: z
      .string()
      .max(1024)
      .describe(`the masked "${SECRET_MASK}" from GET /api/settings leaves it unchanged`),
    junk_score: score.describe('from this score on, into Junk'),
    reject_score: score.describe('from this score on, refused with 550 5.7.1'),
    greylisting: z.boolean(),
    greylist_delay: z.number().min(0).max(86400).describe('seconds'),
    dnsbl: z
      .array(z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i, 'a DNS zone such as zen.spamhaus.org'))
      .max(20)
      .describe('DNS blocklist zones the own checks ask about the client'),
    dnsbl_score: z.number().min(0).max(1000),
  })
  .partial()
  .describe('Only the keys sent are changed.')
  .meta({ id: 'SpamSettingsUpdate' });

const spamSettingsSchema = z.record(z.string(), z.unknown()).meta({ id: 'SpamSettings' });

const rspamdFoundSchema = z
  .object({
    found: z.boolean().describe('a scanning worker answered'),
    scanUrl: z.string(),
    controllerUrl: z.string(),
    version: z.string(),
    actions: z.record(z.string(), z.number()).describe("rspamd's own thresholds by action"),
    detail: z.string().describe('what was found where, or what was tried'),
  })
  .meta({ id: 'RspamdFound' });

export const spamSettingsRoutes = [
  route({
    method: 'PUT',
    path: '/api/spam/settings',
    operationId: 'updateSpamSettings',
    summary: 'Change spam filtering (rspamd, thresholds, greylisting, DNSBL); applied at once',
    description:
      'Writes the configuration file, then every worker process checks the next message with the new settings (no restart).',
    tag: TAG,
    body: spamSettingsUpdateSchema,
    response: {
      status: 200,
      schema: z
        .object({
          spam: spamSettingsSchema,
          file: z.string(),
          warnings: z.array(z.string()).describe('e.g. a key an environment variable overrides'),
        })
        .meta({ id: 'SpamSettingsUpdated' }),
      description: 'The spam settings in force',
    },
    async handler({ body, deps }) {
      const update = { ...body };
      if (update.rspamd_password === SECRET_MASK) delete update.rspamd_password;
      const written = writeSettings(deps.config, { spam: update });
      await deps.applySpam?.(written.config.spam);
      return {
        spam: publicSettings(deps.config).spam as Record<string, unknown>,
        file: written.file,
        warnings: written.warnings,
      };
    },
  }),

  route({
    method: 'POST',
    path: '/api/spam/detect',
    operationId: 'detectRspamd',
    summary: 'Look for rspamd: at the URLs given, else on its default local ports (11333, 11334)',
    tag: TAG,
    body: z
      .object({ url: url.optional(), controllerUrl: url.optional() })
      .meta({ id: 'RspamdDetectRequest' }),
    response: { status: 200, schema: rspamdFoundSchema, description: 'What answered, or what was tried' },
    async handler({ body }) {
      return detectRspamd(body);
    },
  }),
];
