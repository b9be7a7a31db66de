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

/** dns.servers and acme.dns.server: "IP" or "IP:PORT" ("[v6]:PORT"). */
const DNS_SERVER = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[0-9a-fA-F:]+)(:\d{1,5})?$/;

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
    protocols: z
      .array(z.string(), { error: 'a list of imap, pop3, lmtp, smtp, submission, managesieve' })
      .optional(),
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
  server: z.strictObject({
    workers: z
      .number({ error: 'a whole number of worker processes, from 0 (one per core) to 64' })
      .int('a whole number of worker processes, from 0 (one per core) to 64')
      .min(0, 'a whole number of worker processes, from 0 (one per core) to 64')
      .max(64, 'a whole number of worker processes, from 0 (one per core) to 64'),
    journal_poll_ms: z
      .number({ error: 'a whole number of milliseconds, from 20 to 600000' })
      .int('a whole number of milliseconds, from 20 to 600000')
      .min(20, 'a whole number of milliseconds, from 20 to 600000')
      .max(600_000, 'a whole number of milliseconds, from 20 to 600000'),
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
    uidonly: z.boolean({
      error: 'true or false (whether UIDONLY is offered to accounts without a setting of their own)',
    }),
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
  managesieve: z.strictObject({
    enabled,
    host,
    port,
    idle_timeout: z
      .number({ error: 'a number of seconds, at least 60' })
      .int('a whole number of seconds')
      .min(60, 'a number of seconds, at least 60'),
    max_scripts: positiveInt('a whole number of scripts, at least 1'),
    max_script_size: z
      .number({ error: 'a number of bytes from 1024 to 1048576' })
      .int('a whole number of bytes')
      .min(1024, 'a number of bytes from 1024 to 1048576')
      .max(1024 * 1024, 'a number of bytes from 1024 to 1048576'),
  }),
  lmtp: z.strictObject({ enabled, host, port }),
  smtp: z.strictObject({ enabled, host, port }),
  inbound: z.strictObject({
    verify_senders: z.boolean({ error: 'true or false' }),
    dmarc_reject: z.enum(['reject', 'quarantine'], { error: 'reject or quarantine' }),
    bare_lf: z.enum(['normalize', 'refuse'], { error: 'normalize or refuse' }),
    max_recipients: positiveInt('a whole number of recipients, at least 1'),
    max_errors: positiveInt('a whole number of errors, at least 1'),
    max_connection_recipients: positiveInt('a whole number of recipients, at least 1'),
    max_commands: positiveInt('a whole number of commands, at least 1'),
    sieve_before: z.string({ error: 'the path of a Sieve script (or empty)' }),
  }),
  spam: z.strictObject({
    enabled: z.boolean({ error: 'true or false' }),
    rspamd_url: z
      .string({ error: 'an http:// or https:// URL (or empty)' })
      .regex(/^(https?:\/\/\S+)?$/, 'an http:// or https:// URL (or empty)'),
    rspamd_controller_url: z
      .string({ error: 'an http:// or https:// URL (or empty)' })
      .regex(/^(https?:\/\/\S+)?$/, 'an http:// or https:// URL (or empty)'),
    rspamd_password: z.string({ error: 'a password (or empty)' }),
    dnsbl: z.preprocess(
      listFromText,
      z.array(z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i, 'a DNS zone such as zen.spamhaus.org'), {
        error: 'a list of DNS blocklist zones (comma-separated in the environment)',
      }),
    ),
    dnsbl_score: z
      .number({ error: 'a number of points from 0 to 1000' })
      .min(0, 'a number of points from 0 to 1000')
      .max(1000, 'a number of points from 0 to 1000'),
    junk_score: z
      .number({ error: 'a score from -10000 to 10000' })
      .min(-10000, 'a score from -10000 to 10000')
      .max(10000, 'a score from -10000 to 10000'),
    reject_score: z
      .number({ error: 'a score from -10000 to 10000' })
      .min(-10000, 'a score from -10000 to 10000')
      .max(10000, 'a score from -10000 to 10000'),
    greylisting: z.boolean({ error: 'true or false' }),
    greylist_delay: z
      .number({ error: 'a number of seconds from 0 to 86400' })
      .min(0, 'a number of seconds from 0 to 86400')
      .max(86400, 'a number of seconds from 0 to 86400'),
    greylist_expiry_days: positiveInt('a whole number of days, at least 1'),
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
      z.array(z.string().regex(DNS_SERVER, 'an IP address, optionally :PORT'), {
        error: 'a list of DNS server addresses, "IP" or "IP:PORT" (comma-separated in the environment)',
      }),
    ),
  }),
  dkim: z.strictObject({
    enabled: z.boolean({ error: 'true or false' }),
    selector: z
      .string({ error: 'a DNS label' })
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, 'a DNS label (letters, digits, hyphens)'),
  }),
  admin: z.strictObject({ host, port }),
  panel: z.strictObject({
    host,
    port,
    /** The panel over HTTPS on the local network (phones), off by default (README "The panel from a phone"). */
    lan: z.strictObject({ enabled: z.boolean({ error: 'true or false' }), host, port }),
  }),
  web: z.strictObject({
    enabled,
    host,
    port,
    mta_sts_mode: z.enum(['testing', 'enforce', 'none'], { error: 'testing, enforce or none' }),
    mta_sts_max_age: z
      .number({ error: 'a whole number of seconds from 86400 to 31557600' })
      .int('a whole number of seconds from 86400 to 31557600')
      .min(86400, 'a whole number of seconds from 86400 to 31557600')
      .max(31557600, 'a whole number of seconds from 86400 to 31557600'),
  }),
  tls: z.strictObject({
    cert_file: path,
    key_file: path,
    plaintext_auth_on_loopback: z.boolean({ error: 'true or false' }),
  }),
  acme: z.strictObject({
    enabled: z.boolean({ error: 'true or false' }),
    directory_url: z
      .string({ error: 'an https:// URL of an ACME directory' })
      .regex(/^https?:\/\/\S+$/, 'an https:// URL of an ACME directory'),
    email: z
      .string({ error: 'an e-mail address (or empty)' })
      .regex(/^$|^[^\s@]+@[^\s@]+$/, 'an e-mail address (or empty)'),
    accept_terms: z.boolean({ error: 'true or false' }),
    ca_file: path,
    names: z.preprocess(
      listFromText,
      z.array(z.string().min(1, 'a host name'), {
        error: 'a list of host names (comma-separated in the environment)',
      }),
    ),
    challenge: z.enum(['http-01', 'tls-alpn-01', 'dns-01', 'manual'], {
      error: 'http-01, tls-alpn-01, dns-01 or manual',
    }),
    host,
    http_port: port,
    tls_port: port,
    renew_days: z
      .number({ error: 'a whole number of days from 1 to 89' })
      .int('a whole number of days from 1 to 89')
      .min(1, 'a whole number of days from 1 to 89')
      .max(89, 'a whole number of days from 1 to 89'),
    dns: z.strictObject({
      server: z
        .string({ error: 'an IP address, optionally :PORT (or empty)' })
        .regex(new RegExp(`^$|${DNS_SERVER.source}`), 'an IP address, optionally :PORT (or empty)'),
      zone: z.string({ error: 'a DNS zone (or empty)' }),
      tsig_name: z.string({ error: 'a TSIG key name (or empty)' }),
      tsig_secret: z
        .string({ error: 'a base64 TSIG secret (or empty)' })
        .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'a base64 TSIG secret (or empty)'),
    }),
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
    max_import_upload: positiveInt('a size in bytes, at least 1'),
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
  backup: z.strictObject({
    destination: path,
    passphrase_file: path,
    keep_daily: z.number({ error: 'a whole number of daily backups to keep, 0 or more' }).int().min(0),
    keep_weekly: z.number({ error: 'a whole number of weekly backups to keep, 0 or more' }).int().min(0),
    keep_monthly: z.number({ error: 'a whole number of monthly backups to keep, 0 or more' }).int().min(0),
    hour: z
      .number({ error: 'an hour of the day from 0 to 23 (local time)' })
      .int('an hour of the day from 0 to 23 (local time)')
      .min(0, 'an hour of the day from 0 to 23 (local time)')
      .max(23, 'an hour of the day from 0 to 23 (local time)'),
  }),
  rules,
});

export type Config = z.infer<typeof configSchema>;
