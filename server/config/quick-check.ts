/**
 * A hand-written check of the configuration, so that a command which starts for one job and exits
 * (`mallard deliver`, which an MTA may start for every message) need not load zod: the schema's
 * code and building it cost about as much as the rest of a delivery.
 *
 * zod (schema.ts) stays the source of truth. This check accepts only values the schema accepts,
 * and returns what the schema would return for them (quick-check.test.ts compares the two, key by
 * key, over valid, boundary and invalid values). Anything it does not accept goes to zod, which
 * then either accepts it after all or explains the refusal in its own words: so a wrong value
 * reads the same whichever path found it.
 */
import { listFromText, rulesFromText } from './from-text.ts';
import { accepted, resolveConfig, type LoadOptions, type Resolved } from './resolve.ts';
import type { Config } from './schema.ts';
import type { ConfigRule } from '../hooks/seed.ts';

/** What a leaf check returns for a value the schema would refuse (or that this check leaves to zod). */
const REFUSED: unique symbol = Symbol('refused');

/** A leaf: the value the schema returns for `value`, or REFUSED. */
type Leaf = (value: unknown) => unknown;
type Spec = { [key: string]: Spec | Leaf };

/** Checks one rule as the store would (store/rules.ts); throws when the store would refuse it. */
export type RuleCheck = (rule: ConfigRule) => void;

const same =
  (accepts: (value: unknown) => boolean): Leaf =>
  (value) =>
    accepts(value) ? value : REFUSED;

/** z.number().int().min().max(): zod's int() is a safe integer. */
const whole = (min: number, max = Number.MAX_SAFE_INTEGER): Leaf =>
  same((value) => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max);

/** z.number().min().max(): finite, as zod's number() is. */
const decimal = (min: number, max: number): Leaf =>
  same((value) => typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max);

const text = (minLength = 0): Leaf => same((value) => typeof value === 'string' && value.length >= minLength);

const matching = (pattern: RegExp): Leaf => same((value) => typeof value === 'string' && pattern.test(value));

const oneOf = (...choices: unknown[]): Leaf => same((value) => choices.includes(value));

const flag: Leaf = same((value) => typeof value === 'boolean');

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/** dns.servers (a comma-separated list in the environment). */
const DNS_SERVER = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[0-9a-fA-F:]+)(:\d{1,5})?$/;
const dnsServers: Leaf = (value) => {
  const list = listFromText(value);
  return isStringList(list) && list.every((item) => DNS_SERVER.test(item)) ? [...list] : REFUSED;
};

/** spam.rspamd_url and spam.rspamd_controller_url. */
const HTTP_URL = /^(https?:\/\/\S+)?$/;

/** spam.dnsbl (a comma-separated list in the environment). */
const DNSBL_ZONE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i;
const dnsblZones: Leaf = (value) => {
  const list = listFromText(value);
  return isStringList(list) && list.every((item) => DNSBL_ZONE.test(item)) ? [...list] : REFUSED;
};

/** The keys of a rule in the schema's order, with the type each must have. */
const RULE_KEYS: Array<[keyof ConfigRule, (value: unknown) => boolean]> = [
  ['kind', (value) => typeof value === 'string'],
  ['cidrs', isStringList],
  ['limit', (value) => typeof value === 'number' && Number.isFinite(value)],
  ['window_seconds', (value) => typeof value === 'number' && Number.isFinite(value)],
  ['protocols', isStringList],
  ['enabled', (value) => typeof value === 'boolean'],
  ['note', (value) => typeof value === 'string'],
];

/** One rule, or REFUSED. A key present with the value undefined is left to zod. */
function ruleOf(value: unknown, checkRule: RuleCheck | null): ConfigRule | typeof REFUSED {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return REFUSED;
  const given = value as Record<string, unknown>;
  if (Object.keys(given).some((key) => !RULE_KEYS.some(([known]) => known === key))) return REFUSED;
  const rule: Record<string, unknown> = {};
  for (const [key, accepts] of RULE_KEYS) {
    if (!Object.hasOwn(given, key)) continue;
    if (!accepts(given[key])) return REFUSED;
    rule[key] = Array.isArray(given[key]) ? [...(given[key] as string[])] : given[key];
  }
  if (!Object.hasOwn(rule, 'kind') || !checkRule) return REFUSED;
  try {
    checkRule(rule as unknown as ConfigRule);
  } catch {
    return REFUSED;
  }
  return rule as unknown as ConfigRule;
}

/** acme.names (a comma-separated list in the environment). */
const hostNames: Leaf = (value) => {
  const list = listFromText(value);
  return isStringList(list) && list.every((item) => item.length >= 1) ? [...list] : REFUSED;
};

const rulesLeaf =
  (checkRule: RuleCheck | null): Leaf =>
  (value) => {
    const list = rulesFromText(value);
    if (!Array.isArray(list)) return REFUSED;
    const rules = list.map((rule) => ruleOf(rule, checkRule));
    return rules.includes(REFUSED) ? REFUSED : rules;
  };

const port = whole(0, 65535);
const host = text(1);
const positive = whole(1);

/** The schema (schema.ts), key for key and in its order. */
function specFor(checkRule: RuleCheck | null): Spec {
  return {
    data_dir: text(1),
    hostname: text(1),
    log_level: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
    server: { workers: whole(0, 64), journal_poll_ms: whole(20, 600_000) },
    store: {
      engine: oneOf('sqlite', 'mongodb'),
      sqlite: { thread: flag, call_timeout: decimal(0.1, 3600) },
      mongodb: {
        uri: same(
          (value) => typeof value === 'string' && (value === '' || /^mongodb(\+srv)?:\/\//.test(value)),
        ),
        local: text(),
        local_members: oneOf(1, 3),
      },
    },
    imap: {
      enabled: flag,
      host,
      port,
      tls_port: port,
      max_connections_per_user: positive,
      idle_max: positive,
      idle_keepalive: positive,
      idle_timeout: whole(1800),
      parse_workers: whole(0, 64),
      uidonly: flag,
    },
    pop3: {
      enabled: flag,
      host,
      port,
      tls_port: port,
      idle_timeout: whole(600),
      delete_mode: oneOf('expunge', 'trash'),
    },
    managesieve: {
      enabled: flag,
      host,
      port,
      idle_timeout: whole(60),
      max_scripts: positive,
      max_script_size: whole(1024, 1024 * 1024),
    },
    lmtp: { enabled: flag, host, port },
    smtp: { enabled: flag, host, port },
    inbound: {
      verify_senders: flag,
      dmarc_reject: oneOf('reject', 'quarantine'),
      bare_lf: oneOf('normalize', 'refuse'),
      max_recipients: positive,
      max_errors: positive,
      max_connection_recipients: positive,
      max_commands: positive,
      sieve_before: text(),
    },
    spam: {
      enabled: flag,
      rspamd_url: matching(HTTP_URL),
      rspamd_controller_url: matching(HTTP_URL),
      rspamd_password: text(),
      dnsbl: dnsblZones,
      dnsbl_score: decimal(0, 1000),
      junk_score: decimal(-10000, 10000),
      reject_score: decimal(-10000, 10000),
      greylisting: flag,
      greylist_delay: decimal(0, 86400),
      greylist_expiry_days: positive,
    },
    submission: {
      enabled: flag,
      host,
      port,
      tls_port: port,
      max_messages_per_hour: positive,
      max_recipients: positive,
    },
    outbound: {
      relay: {
        host: text(),
        port,
        tls: oneOf('starttls', 'tls', 'none'),
        username: text(),
        password: text(),
      },
      mx_port: whole(1, 65535),
      retry_base: positive,
      retry_max: positive,
      give_up_after: positive,
      delay_warning_after: positive,
      concurrency: positive,
      concurrency_per_domain: positive,
      poll_interval: positive,
      lease: positive,
      mta_sts: { enabled: flag, policy_port: whole(1, 65535), ca_file: text() },
    },
    dns: { servers: dnsServers },
    dkim: { enabled: flag, selector: matching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i) },
    admin: { host, port },
    panel: { host, port, lan: { enabled: flag, host, port } },
    web: {
      enabled: flag,
      host,
      port,
      mta_sts_mode: oneOf('testing', 'enforce', 'none'),
      mta_sts_max_age: whole(86400, 31557600),
    },
    tls: { cert_file: text(), key_file: text(), plaintext_auth_on_loopback: flag },
    acme: {
      enabled: flag,
      directory_url: matching(/^https?:\/\/\S+$/),
      email: matching(/^$|^[^\s@]+@[^\s@]+$/),
      accept_terms: flag,
      ca_file: text(),
      names: hostNames,
      challenge: oneOf('http-01', 'tls-alpn-01', 'dns-01', 'manual'),
      host,
      http_port: port,
      tls_port: port,
      renew_days: whole(1, 89),
      dns: {
        server: matching(new RegExp(`^$|${DNS_SERVER.source}`)),
        zone: text(),
        tsig_name: text(),
        tsig_secret: matching(/^[A-Za-z0-9+/]*={0,2}$/),
      },
    },
    auth: {
      address_failure_limit: positive,
      failure_window: positive,
      address_lockout: positive,
      base_delay_ms: whole(0),
      max_delay_ms: whole(0, 60_000),
      account_slowdown_after: positive,
      account_alert_after: positive,
      known_address_days: positive,
    },
    limits: {
      max_message_size: positive,
      max_import_upload: positive,
      max_line_length: whole(1024),
      prelogin_literal_size: whole(256),
      prelogin_timeout: positive,
      max_connections_per_address: positive,
      max_prelogin_connections: positive,
      fd_reserve: whole(32),
      max_keywords_per_mailbox: positive,
      command_timeout: positive,
      transaction_timeout: positive,
      min_data_rate: positive,
    },
    backup: {
      destination: text(),
      passphrase_file: text(),
      keep_daily: whole(0),
      keep_weekly: whole(0),
      keep_monthly: whole(0),
      hour: whole(0, 23),
    },
    rules: rulesLeaf(checkRule),
  };
}

/** `value` checked against a section of the spec: a new object in the spec's key order, or REFUSED. */
function checkSection(spec: Spec, value: unknown): Record<string, unknown> | typeof REFUSED {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return REFUSED;
  const given = value as Record<string, unknown>;
  // A strict object: a key the spec has not is refused.
  for (const key of Object.keys(given)) if (!Object.hasOwn(spec, key)) return REFUSED;
  const result: Record<string, unknown> = {};
  for (const [key, check] of Object.entries(spec)) {
    if (!Object.hasOwn(given, key)) return REFUSED;
    const checked = typeof check === 'function' ? check(given[key]) : checkSection(check, given[key]);
    if (checked === REFUSED) return REFUSED;
    result[key] = checked;
  }
  return result;
}

/**
 * The configuration the schema would return for `tree`, or null when this check leaves it to zod.
 * `checkRule` validates connection rules as the store does; without it a non-empty list of rules is
 * left to zod.
 */
export function quickCheck(tree: unknown, checkRule: RuleCheck | null = null): Config | null {
  const result = checkSection(specFor(checkRule), tree);
  return result === REFUSED ? null : (result as Config);
}

/** The leaf paths this check knows, for the test that compares them with the schema's. */
export function quickCheckPaths(): string[][] {
  const walk = (spec: Spec, prefix: string[]): string[][] =>
    Object.entries(spec).flatMap(([key, value]) =>
      typeof value === 'function' ? [[...prefix, key]] : walk(value, [...prefix, key]),
    );
  return walk(specFor(null), []);
}

/** The store's check of connection rules, loaded only when the configuration has some. */
async function ruleCheckFor(resolved: Resolved): Promise<RuleCheck | null> {
  const rules = rulesFromText(resolved.merged.rules);
  if (!Array.isArray(rules) || rules.length === 0) return null;
  const [{ configRuleToNew }, { validateRule }] = await Promise.all([
    import('../hooks/seed.ts'),
    import('../store/rules.ts'),
  ]);
  return (rule) => void validateRule(configRuleToNew(rule));
}

/**
 * loadConfig() for a one-shot command: the same result and the same errors, but zod is loaded only
 * when the configuration is not plainly valid.
 */
export async function loadConfigLazily(options: LoadOptions = {}): Promise<Config> {
  const resolved = resolveConfig(options);
  const quick = quickCheck(resolved.merged, await ruleCheckFor(resolved));
  if (quick) return accepted(resolved, quick);
  const { validateResolved } = await import('./load.ts');
  return validateResolved(resolved);
}
