/**
 * The configuration schema. Each leaf carries the words used when a value is refused, so start-up
 * can say which key is wrong, what it got and what it expects.
 */
import { z } from 'zod';
import { configRuleToNew } from '../hooks/seed.ts';
import { validateRule } from '../store/rules.ts';
import { listFromText, rulesFromText } from './from-text.ts';
import { isOneShotProcess } from './one-shot.ts';

// A one-shot command (see one-shot.ts) validates once: zod's JIT would cost more than it saves.
if (isOneShotProcess()) z.config({ jitless: true });

const port = z
  .number({ error: 'a port number from 0 to 65535 (0 disables the listener)' })
  .int('a port number from 0 to 65535 (0 disables the listener)')
  .min(0, 'a port number from 0 to 65535 (0 disables the listener)')
  .max(65535, 'a port number from 0 to 65535 (0 disables the listener)');

const host = z
  .string({ error: 'an IP address or host name to listen on' })
  .min(1, 'an IP address to listen on');

function positiveInt(what: string) {
  return z.number({ error: what }).int(what).min(1, what);
}

const path = z.string({ error: 'a file path (or empty)' });

/** A protocol switched off keeps its ports in the file, so switching it on again restores them. */
const enabled = z.boolean({ error: 'true or false (whether the protocol listens at all)' });

const RULES_WORDS =
  'a list of connection rules, e.g. [{kind: deny, cidrs: [10.0.0.0/8]}, {kind: max-conn, limit: 20}] (JSON in the environment)';

const configRule = z.strictObject(
  {
    kind: z.string({ error: RULES_WORDS }),
    cidrs: z.array(z.string(), { error: 'a list of addresses or CIDR ranges' }).optional(),
    limit: z.number({ error: 'a whole number' }).optional(),
    window_seconds: z.number({ error: 'a number of seconds' }).optional(),
    protocols: z.array(z.string(), { error: 'a list of imap, pop3, lmtp, smtp' }).optional(),
    enabled: z.boolean({ error: 'true or false' }).optional(),
    note: z.string({ error: 'text' }).optional(),
  },
  { error: 'a rule with some of the keys kind, cidrs, limit, window_seconds, protocols, enabled, note' },
);

/** Connection rules seeded into an empty store (server/hooks/seed.ts), checked as the store would. */
const rules = z
  .preprocess(rulesFromText, z.array(configRule, { error: RULES_WORDS }))
  .superRefine((list, ctx) => {
    list.forEach((rule, index) => {
      try {
        validateRule(configRuleToNew(rule));
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `valid rules (rule ${index + 1}: ${(error as Error).message})`,
        });
      }
    });
  });

export const configSchema = z.strictObject({
  data_dir: z.string({ error: 'a directory path' }).min(1, 'a directory path'),
  hostname: z.string({ error: 'a host name' }).min(1, 'a host name'),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    error: 'one of fatal, error, warn, info, debug, trace, silent',
  }),
  store: z.strictObject({
    engine: z.enum(['sqlite', 'mongodb'], { error: 'sqlite or mongodb' }),
    sqlite: z.strictObject({
      thread: z.boolean({
        error: 'true or false (whether the server runs the database on threads of its own)',
      }),
      call_timeout: z
        .number({ error: 'a number of seconds from 0.1 to 3600' })
        .min(0.1, 'a number of seconds from 0.1 to 3600')
        .max(3600, 'a number of seconds from 0.1 to 3600'),
    }),
    mongodb: z.strictObject({
      uri: z
        .string({ error: 'a mongodb:// or mongodb+srv:// URI (or empty)' })
        .refine(
          (uri) => uri === '' || /^mongodb(\+srv)?:\/\//.test(uri),
          'a mongodb:// or mongodb+srv:// URI (or empty)',
        ),
      local: path,
      local_members: z.union([z.literal(1), z.literal(3)], {
        error: '1 or 3 (members of the local replica set)',
      }),
    }),
  }),
  imap: z.strictObject({
    enabled,
    host,
    port,
    tls_port: port,
    max_connections_per_user: positiveInt('a whole number of connections, at least 1'),
    idle_max: positiveInt('a number of seconds, at least 1'),
    idle_keepalive: positiveInt('a number of seconds, at least 1'),
    idle_timeout: z
      .number({ error: 'a number of seconds, at least 1800 (RFC 3501)' })
      .int('a whole number of seconds')
      .min(1800, 'a number of seconds, at least 1800 (RFC 3501)'),
    parse_workers: z
      .number({ error: 'a whole number of worker threads, from 0 (automatic) to 64' })
      .int('a whole number of worker threads, from 0 (automatic) to 64')
      .min(0, 'a whole number of worker threads, from 0 (automatic) to 64')
      .max(64, 'a whole number of worker threads, from 0 (automatic) to 64'),
  }),
  pop3: z.strictObject({
    enabled,
    host,
    port,
    tls_port: port,
    idle_timeout: z
      .number({ error: 'a number of seconds, at least 600 (RFC 1939)' })
      .int('a whole number of seconds')
      .min(600, 'a number of seconds, at least 600 (RFC 1939)'),
    delete_mode: z.enum(['expunge', 'trash'], { error: 'expunge or trash' }),
  }),
  lmtp: z.strictObject({ enabled, host, port }),
  smtp: z.strictObject({ enabled, host, port }),
  inbound: z.strictObject({
    verify_senders: z.boolean({ error: 'true or false' }),
    dmarc_reject: z.enum(['reject', 'quarantine'], { error: 'reject or quarantine' }),
    bare_lf: z.enum(['normalize', 'refuse'], { error: 'normalize or refuse' }),
    max_recipients: positiveInt('a whole number of recipients, at least 1'),
    max_errors: positiveInt('a whole number of errors, at least 1'),
  }),
  submission: z.strictObject({
    enabled,
    host,
    port,
    tls_port: port,
    max_messages_per_hour: positiveInt('a whole number of messages, at least 1'),
    max_recipients: positiveInt('a whole number of recipients, at least 1'),
  }),
  outbound: z.strictObject({
    relay: z.strictObject({
      host: z.string({ error: 'a host name or IP address (empty: deliver to MX hosts directly)' }),
      port: port,
      tls: z.enum(['starttls', 'tls', 'none'], { error: 'starttls, tls or none' }),
      username: z.string({ error: 'a user name (or empty)' }),
      password: z.string({ error: 'a password (or empty)' }),
    }),
    mx_port: port.refine((value) => value > 0, 'a port number from 1 to 65535'),
    retry_base: positiveInt('a number of seconds, at least 1'),
    retry_max: positiveInt('a number of seconds, at least 1'),
    give_up_after: positiveInt('a number of seconds, at least 1'),
    delay_warning_after: positiveInt('a number of seconds, at least 1'),
    concurrency: positiveInt('a whole number of deliveries, at least 1'),
    concurrency_per_domain: positiveInt('a whole number of deliveries, at least 1'),
    poll_interval: positiveInt('a number of seconds, at least 1'),
    lease: positiveInt('a number of seconds, at least 1'),
    mta_sts: z.strictObject({
      enabled: z.boolean({ error: 'true or false' }),
      policy_port: port.refine((value) => value > 0, 'a port number from 1 to 65535'),
      ca_file: path,
    }),
  }),
  dns: z.strictObject({
    servers: z.preprocess(
      listFromText,
      z.array(
        z
          .string()
          .regex(
            /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[0-9a-fA-F:]+)(:\d{1,5})?$/,
            'an IP address, optionally :PORT',
          ),
        { error: 'a list of DNS server addresses, "IP" or "IP:PORT" (comma-separated in the environment)' },
      ),
    ),
  }),
  dkim: z.strictObject({
    enabled: z.boolean({ error: 'true or false' }),
    selector: z
      .string({ error: 'a DNS label' })
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, 'a DNS label (letters, digits, hyphens)'),
  }),
  admin: z.strictObject({ host, port }),
  panel: z.strictObject({ host, port }),
  tls: z.strictObject({
    cert_file: path,
    key_file: path,
    plaintext_auth_on_loopback: z.boolean({ error: 'true or false' }),
  }),
  auth: z.strictObject({
    address_failure_limit: positiveInt('a whole number of failed logins, at least 1'),
    failure_window: positiveInt('a number of seconds, at least 1'),
    address_lockout: positiveInt('a number of seconds, at least 1'),
    base_delay_ms: z
      .number({ error: 'a number of milliseconds, 0 or more' })
      .int('a whole number of milliseconds')
      .min(0, 'a number of milliseconds, 0 or more'),
    max_delay_ms: z
      .number({ error: 'a number of milliseconds, from 0 to 60000' })
      .int('a whole number of milliseconds')
      .min(0, 'a number of milliseconds, from 0 to 60000')
      .max(60_000, 'a number of milliseconds, from 0 to 60000'),
    account_slowdown_after: positiveInt('a whole number of failed logins, at least 1'),
    account_alert_after: positiveInt('a whole number of failed logins, at least 1'),
    known_address_days: positiveInt('a whole number of days, at least 1'),
  }),
  limits: z.strictObject({
    max_message_size: positiveInt('a size in bytes, at least 1'),
    max_line_length: z
      .number({ error: 'a size in bytes, at least 1024' })
      .int('a whole number of bytes')
      .min(1024, 'a size in bytes, at least 1024'),
    prelogin_literal_size: z
      .number({ error: 'a size in bytes, at least 256' })
      .int('a whole number of bytes')
      .min(256, 'a size in bytes, at least 256'),
    prelogin_timeout: positiveInt('a number of seconds, at least 1'),
    max_connections_per_address: positiveInt('a whole number of connections, at least 1'),
    max_prelogin_connections: positiveInt('a whole number of connections, at least 1'),
    fd_reserve: z
      .number({ error: 'a whole number of file descriptors, at least 32' })
      .int('a whole number of file descriptors')
      .min(32, 'a whole number of file descriptors, at least 32'),
    max_keywords_per_mailbox: positiveInt('a whole number of keywords, at least 1'),
    command_timeout: positiveInt('a number of seconds, at least 1'),
    transaction_timeout: positiveInt('a number of seconds, at least 1'),
    min_data_rate: positiveInt('a number of bytes a second, at least 1'),
  }),
  rules,
});

export type Config = z.infer<typeof configSchema>;
