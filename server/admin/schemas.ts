/**
 * The shapes the admin API sends (zod schemas, so the OpenAPI document is generated from them and
 * tests check responses against them) and their TypeScript types for clients (the panel imports
 * these types only). Request schemas live with their handlers.
 */
import { z } from 'zod';
import { CONNECTION_RULE_KINDS, RULE_PROTOCOLS } from '../store/types.ts';

export const ERROR_CODES = [
  'validation_failed',
  'not_found',
  'unauthorized',
  'conflict',
  'rate_limited',
  'method_not_allowed',
  'not_implemented',
  'internal',
  'invalid_domain',
  'domain_exists',
  'unknown_domain',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      /** For validation_failed: which input was wrong and why. */
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

const timestamp = z.iso.datetime();
const id = z.string().min(1);

export const protocolSchema = z.enum(['imap', 'pop3', 'lmtp', 'smtp', 'submission', 'managesieve']);
export type SessionProtocol = z.infer<typeof protocolSchema>;

// --- domains ---

export const domainSchema = z
  .object({
    name: z.string().describe('lower-case IDNA A-label'),
    catchAll: z
      .string()
      .nullable()
      .describe("the user's address that receives mail to unknown names; null: none"),
    dkim: z.boolean().describe('outgoing mail from this domain is DKIM-signed'),
    createdAt: timestamp,
  })
  .meta({ id: 'Domain' });
export type DomainJson = z.infer<typeof domainSchema>;

/** A domain in the list, with what keeps it from being removed. */
export const domainListItemSchema = domainSchema
  .extend({
    users: z.number().int().describe('users whose primary address is in the domain'),
    aliases: z.number().int().describe('aliases in the domain (the catch-all not counted)'),
  })
  .meta({ id: 'DomainListItem' });
export type DomainListItemJson = z.infer<typeof domainListItemSchema>;

// --- users ---

export const userSchema = z
  .object({
    id,
    username: z.string(),
    name: z.string(),
    disabled: z.boolean(),
    quotaBytes: z.number().int().describe('0 means unlimited'),
    usedBytes: z.number().int(),
    saveSentCopy: z.boolean().describe('submission stores a copy of sent mail in Sent (off by default)'),
    uidOnly: z
      .boolean()
      .nullable()
      .describe("IMAP UIDONLY (RFC 9586) offered to this user; null follows the server's imap.uidonly"),
    createdAt: timestamp,
  })
  .meta({ id: 'User' });
export type UserJson = z.infer<typeof userSchema>;

export const addressSchema = z
  .object({ address: z.string(), kind: z.enum(['primary', 'alias', 'catchall']) })
  .meta({ id: 'Address' });
export type AddressJson = z.infer<typeof addressSchema>;

export const mailboxSummarySchema = z
  .object({
    id,
    path: z.string(),
    specialUse: z.string().nullable(),
    subscribed: z.boolean(),
    selectable: z.boolean(),
    messages: z.number().int(),
    unseen: z.number().int(),
    bytes: z.number().int(),
  })
  .meta({ id: 'MailboxSummary' });

export const userDetailSchema = userSchema
  .extend({
    addresses: z.array(addressSchema),
    mailboxes: z.array(mailboxSummarySchema),
    quota: z.object({ usedBytes: z.number().int(), limitBytes: z.number().int() }),
    sessions: z.number().int().describe('live sessions of this user in this server process'),
  })
  .meta({ id: 'UserDetail' });
export type UserDetailJson = z.infer<typeof userDetailSchema>;

export const userListSchema = z
  .object({
    users: z.array(userSchema),
    total: z.number().int(),
    offset: z.number().int(),
    limit: z.number().int(),
  })
  .meta({ id: 'UserList' });

export const createdUserSchema = z
  .object({
    user: userSchema,
    password: z.string().optional().describe('the generated password, returned once (generate: true)'),
  })
  .meta({ id: 'CreatedUser' });

export const appPasswordSchema = z
  .object({ id, label: z.string(), createdAt: timestamp, lastUsedAt: timestamp.nullable() })
  .meta({ id: 'AppPassword' });
export type AppPasswordJson = z.infer<typeof appPasswordSchema>;

export const createdAppPasswordSchema = z
  .object({
    appPassword: appPasswordSchema,
    secret: z.string().describe('the app password, shown once: it is stored only as a hash'),
  })
  .meta({ id: 'CreatedAppPassword' });

// --- rules ---

export const ruleCountersSchema = z.object({
  allow: z.number().int(),
  deny: z.number().int(),
  errors: z.number().int(),
});

export const ruleSchema = z
  .object({
    id,
    position: z.number().int(),
    kind: z.enum(CONNECTION_RULE_KINDS as [string, ...string[]]),
    cidrs: z.array(z.string()),
    limit: z.number().int().nullable(),
    windowSeconds: z.number().int().nullable(),
    protocols: z.array(z.enum(RULE_PROTOCOLS as [string, ...string[]])),
    enabled: z.boolean(),
    note: z.string(),
    createdAt: timestamp,
    updatedAt: timestamp,
    counters: ruleCountersSchema.describe('verdicts since this server process loaded the rule'),
  })
  .meta({ id: 'Rule' });
export type RuleJson = z.infer<typeof ruleSchema>;

const ruleDecisionSchema = z.object({
  allow: z.boolean(),
  ruleId: z.string().nullable().describe('the rule that decided; null when none did (allowed)'),
  reason: z.string().nullable(),
  error: z.string().nullable(),
});

export const ruleTestSchema = z
  .object({
    address: z.string(),
    protocol: protocolSchema,
    connect: ruleDecisionSchema,
    auth: ruleDecisionSchema,
  })
  .meta({ id: 'RuleTest' });

// --- sessions ---

export const tlsSchema = z.object({ version: z.string(), cipher: z.string() });

export const sessionSchema = z
  .object({
    id,
    protocol: protocolSchema,
    remoteAddress: z.string(),
    remotePort: z.number().int(),
    localPort: z.number().int(),
    secure: z.boolean(),
    tls: tlsSchema.nullable(),
    user: z.string().nullable(),
    userId: z.string().nullable(),
    clientName: z.string().nullable().describe('from IMAP ID'),
    mailbox: z.string().nullable().describe('the selected mailbox'),
    idle: z.boolean(),
    command: z.string().nullable().describe('the command running now (its name only)'),
    commands: z.number().int(),
    bytesIn: z.number().int(),
    bytesOut: z.number().int(),
    startedAt: timestamp,
    lastActivityAt: timestamp,
  })
  .meta({ id: 'Session' });
export type SessionJson = z.infer<typeof sessionSchema>;

export const sessionListSchema = z
  .object({ sessions: z.array(sessionSchema), total: z.number().int() })
  .meta({ id: 'SessionList' });

// --- status, settings, logs ---

export const deliveryDaySchema = z
  .object({
    day: z.string().describe("the server's local calendar day, YYYY-MM-DD"),
    local: z.number().int().describe('messages stored in a mailbox here (LMTP, SMTP, submission, CLI)'),
    sent: z.number().int().describe('recipients accepted by the next hop (outbound queue)'),
    deferred: z.number().int().describe('outbound attempts answered with a temporary failure'),
    bounced: z.number().int().describe('outbound recipients given up (permanent failure or too old)'),
  })
  .meta({ id: 'DeliveryDay' });

const countsSchema = z.object({
  imap: z.number().int(),
  pop3: z.number().int(),
  lmtp: z.number().int(),
  smtp: z.number().int(),
  submission: z.number().int(),
  managesieve: z.number().int(),
});

export const accountAlertSchema = z
  .object({
    username: z.string(),
    failures: z.number().int().describe('failed logins within auth.failure_window'),
    addresses: z.number().int().describe('distinct addresses (IPv6: /64) they came from'),
    since: timestamp.describe('the oldest failure counted'),
  })
  .meta({ id: 'AccountAlert' });

export const authStatusSchema = z
  .object({
    lockedAddresses: z.number().int().describe('addresses refused now for guessing passwords'),
    accountsUnderAttack: z
      .array(accountAlertSchema)
      .describe('accounts with at least auth.account_alert_after failed logins in the window'),
  })
  .describe('password guessing seen by this process (README "Security")')
  .meta({ id: 'AuthStatus' });

export const statusSchema = z
  .object({
    version: z.string(),
    startedAt: timestamp,
    uptimeSeconds: z.number(),
    listeners: z.array(
      z.object({
        protocol: z.enum(['imap', 'pop3', 'lmtp', 'smtp', 'submission', 'managesieve', 'web', 'admin']),
        host: z.string(),
        port: z.number().int(),
        tls: z.enum(['implicit', 'starttls', 'none']),
      }),
    ),
    store: z.object({ engine: z.string(), ok: z.boolean(), detail: z.string() }),
    connections: countsSchema,
    delivered: z.object({ lmtp: z.number().int(), smtp: z.number().int(), total: z.number().int() }),
    today: deliveryDaySchema
      .nullable()
      .describe(
        "today's deliveries from the store's history (every process, the CLI); null while the store is away",
      ),
    auth: authStatusSchema,
    acme: z
      .object({
        state: z.enum(['idle', 'running', 'waiting-for-dns', 'valid', 'failed']),
        notAfter: timestamp.nullable(),
        lastError: z.string().nullable(),
        failures: z.number().int(),
        nextAttemptAt: timestamp.nullable(),
      })
      .nullable()
      .describe('the ACME certificate in short (GET /api/acme has all); null without the ACME part'),
  })
  .meta({ id: 'Status' });
export type StatusJson = z.infer<typeof statusSchema>;

export const settingsSchema = z
  .record(z.string(), z.unknown())
  .describe('the configuration in force, secrets masked')
  .meta({ id: 'Settings' });

export const logLineSchema = z
  .looseObject({ time: timestamp, level: z.string(), msg: z.string() })
  .meta({ id: 'LogLine' });

export const logsSchema = z.object({ lines: z.array(logLineSchema) }).meta({ id: 'Logs' });

// --- certificates ---

export const certificateSchema = z
  .object({
    id,
    kind: z.enum(['ca', 'server', 'imported', 'self-signed']),
    names: z.array(z.string()).describe('DNS names and IP addresses; empty for a CA'),
    subject: z.string(),
    issuer: z.string(),
    notBefore: timestamp,
    notAfter: timestamp,
    fingerprint: z.string().describe('SHA-256'),
    serialNumber: z.string(),
    keyType: z.enum(['rsa', 'ecdsa']),
    keyBits: z.number().int(),
    chainLength: z.number().int(),
    trust: z.enum(['local-ca', 'public', 'included-root', 'self-signed', 'unknown']),
    createdAt: timestamp,
    active: z.boolean().describe('served to clients without SNI (or whose name no other covers)'),
    expired: z.boolean(),
  })
  .describe('never carries a private key')
  .meta({ id: 'Certificate' });

// --- certificates from an ACME CA ---

export const acmeStatusSchema = z
  .object({
    enabled: z.boolean().describe('the daily renewal check runs (acme.enabled)'),
    directoryUrl: z.string(),
    email: z.string(),
    termsAccepted: z.boolean(),
    challenge: z.enum(['http-01', 'tls-alpn-01', 'dns-01', 'manual']),
    names: z.array(z.string()).describe('hostname, then acme.names'),
    state: z.enum(['idle', 'running', 'waiting-for-dns', 'valid', 'failed']),
    certificate: z
      .object({ id, names: z.array(z.string()), notAfter: timestamp, active: z.boolean() })
      .nullable()
      .describe('the certificate the CA issued last (kept when a later attempt fails)'),
    renewAfter: timestamp.nullable(),
    lastAttemptAt: timestamp.nullable(),
    lastError: z.string().nullable().describe('why the last attempt failed; null after a success'),
    failures: z.number().int().describe('failed attempts since the last success'),
    nextAttemptAt: timestamp.nullable().describe('when the renewal check retries'),
    records: z
      .array(z.object({ name: z.string(), type: z.literal('TXT'), value: z.string() }))
      .describe('manual DNS-01: the TXT records to publish, then POST /api/acme/confirm'),
  })
  .meta({ id: 'AcmeStatus' });

export const backupStatusSchema = z
  .object({
    configured: z.boolean().describe('a destination is set (backup.destination): the daily backup runs'),
    destination: z.string(),
    encrypted: z.boolean().describe('backups are encrypted with the passphrase of backup.passphrase_file'),
    running: z.boolean(),
    nextRunAt: timestamp.nullable(),
    last: z
      .object({
        ok: z.boolean(),
        startedAt: timestamp,
        finishedAt: timestamp,
        file: z.string().nullable(),
        bytes: z.number().int(),
        messages: z.number().int(),
        pruned: z.array(z.string()),
        error: z.string().nullable().describe('why the last run failed; null after a success'),
      })
      .nullable()
      .describe('the last run, from any process or `mallard backup now`'),
    lastSuccessAt: timestamp.nullable(),
    backups: z
      .array(
        z.object({
          name: z.string(),
          bytes: z.number().int(),
          createdAt: timestamp.nullable(),
          encrypted: z.boolean(),
        }),
      )
      .describe('the backups in the destination, newest first'),
    restore: z
      .object({
        backup: z.string(),
        user: z.string(),
        mailbox: z.string().nullable().describe('null: every mailbox of the user'),
        phase: z
          .enum(['verifying', 'restoring', 'cancelling', 'done', 'cancelled', 'failed'])
          .describe('cancelling: asked to stop, it stops after the batch in flight'),
        startedAt: timestamp,
        finishedAt: timestamp.nullable(),
        messages: z.number().int().describe('messages restored or found already there so far'),
        bytes: z.number().int(),
        report: z
          .object({
            users: z.number().int(),
            mailboxes: z.array(
              z.object({
                user: z.string(),
                path: z.string(),
                uids: z
                  .enum(['kept', 'new-uids'])
                  .describe('kept: the old UIDs and UIDVALIDITY; new-uids: added to a mailbox holding mail'),
                restored: z.number().int(),
                skipped: z.number().int(),
              }),
            ),
            messages: z.number().int(),
            bytes: z.number().int(),
            outbound: z.number().int(),
            notes: z.array(z.string()),
          })
          .nullable()
          .describe('what was restored, once done or cancelled'),
        error: z
          .string()
          .nullable()
          .describe('why the restore failed (nothing is restored from a backup that does not verify)'),
      })
      .nullable()
      .describe('the last restore started from the panel or the API'),
  })
  .meta({ id: 'BackupStatus' });

// --- events (the WebSocket /api/events) ---

const event = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({ type: z.literal(type), at: timestamp, data });

export const adminEventSchema = z
  .discriminatedUnion('type', [
    event('session.opened', sessionSchema),
    event(
      'session.authenticated',
      z.object({ id, protocol: protocolSchema, user: z.string(), userId: z.string() }),
    ),
    event(
      'session.command',
      z.object({ id, protocol: protocolSchema, command: z.string(), commands: z.number().int() }),
    ),
    event('session.idle', z.object({ id, protocol: protocolSchema, idle: z.boolean() })),
    event('session.updated', sessionSchema.describe('after a change of mailbox, client name or TLS')),
    event(
      'session.closed',
      z.object({
        id,
        protocol: protocolSchema,
        user: z.string().nullable(),
        commands: z.number().int(),
        bytesIn: z.number().int(),
        bytesOut: z.number().int(),
        durationMs: z.number().int(),
      }),
    ),
    event(
      'rule.verdict',
      z.object({
        phase: z.enum(['connect', 'auth']),
        protocol: protocolSchema,
        sessionId: z.string(),
        remoteAddress: z.string(),
        username: z.string().nullable(),
        allow: z.boolean(),
        reason: z.string().nullable(),
      }),
    ),
    event(
      'delivery',
      z.object({
        protocol: z.enum(['lmtp', 'smtp']),
        sessionId: z.string(),
        recipient: z.string(),
        userId: z.string(),
        uid: z.number().int(),
        size: z.number().int(),
        mailbox: z.string().optional().describe('INBOX, or Junk when an inbound check filed it there'),
        reasons: z.array(z.string()).optional().describe('why (SPF/DKIM/DMARC/ARC results, spam)'),
      }),
    ),
    event(
      'delivery.refused',
      z.object({
        protocol: z.enum(['lmtp', 'smtp']),
        sessionId: z.string(),
        transactionId: z.string(),
        reply: z.string().describe('what the client was told, e.g. "550 5.7.1 ..."'),
        recipients: z.array(z.string()).optional().describe('the recipients it was meant for'),
        reasons: z.array(z.string()),
      }),
    ),
    event(
      'spam.learned',
      z.object({
        user: z.string(),
        kind: z.enum(['spam', 'ham']).describe('spam: moved into Junk; ham: moved out of it'),
        learned: z.number().int(),
        failed: z.number().int().describe('messages rspamd did not learn (see the log)'),
      }),
    ),
    event('auth.alert', accountAlertSchema.describe('an account reached auth.account_alert_after failures')),
    event('certificate.changed', z.object({ action: z.string(), id: z.string().nullable() })),
    event(
      'acme.changed',
      acmeStatusSchema.describe('a certificate request started, waits, succeeded or failed'),
    ),
    event(
      'status',
      z.object({
        uptimeSeconds: z.number(),
        connections: countsSchema,
        delivered: z.object({ lmtp: z.number().int(), smtp: z.number().int(), total: z.number().int() }),
        today: deliveryDaySchema
          .nullable()
          .describe(
            "today's deliveries from the store's history (every process, the CLI); null while the store is away",
          ),
      }),
    ),
  ])
  .meta({ id: 'Event' });
export type AdminEvent = z.infer<typeof adminEventSchema>;
export type AdminEventType = AdminEvent['type'];

/** The Filters page's settings (server/sieve/filters/model.ts), for the renderer's typed calls. */
export type {
  Filter as FilterJson,
  FilterActions as FilterActionsJson,
  FilterConditions as FilterConditionsJson,
  FilterSettings as FilterSettingsJson,
  Forwarding as ForwardingJson,
  Vacation as VacationJson,
} from '../sieve/filters/model.ts';
export type { DryRunResult as FilterTestResultJson } from '../sieve/filters/dry-run.ts';
export type { UserFilters as UserFiltersJson } from '../sieve/filters/user-filters.ts';
