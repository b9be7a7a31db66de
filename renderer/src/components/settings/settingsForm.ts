/**
 * The settings form's model, apart from its look: the keys `PUT /api/settings` accepts, their values
 * as the inputs hold them, validation as the user types (the server's rules, so most mistakes never
 * reach it), the patch of changed keys sent on save, and server issues mapped back onto fields.
 */
import type { SettingsJson, SettingsPatch } from '../../api/settings.ts';

export const PROTOCOLS = [
  {
    key: 'imap',
    label: 'IMAP',
    hint: 'Mail clients read mail',
    ports: [
      { path: 'imap.port', label: 'Port (STARTTLS)', usual: 143 },
      { path: 'imap.tls_port', label: 'TLS port', usual: 993 },
    ],
  },
  {
    key: 'pop3',
    label: 'POP3',
    hint: 'Older clients download mail',
    ports: [
      { path: 'pop3.port', label: 'Port (STARTTLS)', usual: 110 },
      { path: 'pop3.tls_port', label: 'TLS port', usual: 995 },
    ],
  },
  {
    key: 'lmtp',
    label: 'LMTP',
    hint: 'A local mail transfer agent delivers',
    ports: [{ path: 'lmtp.port', label: 'Port', usual: 24 }],
  },
  {
    key: 'smtp',
    label: 'SMTP',
    hint: 'Other servers deliver',
    ports: [{ path: 'smtp.port', label: 'Port', usual: 25 }],
  },
] as const;

export type ProtocolKey = (typeof PROTOCOLS)[number]['key'];
export type PortPath = (typeof PROTOCOLS)[number]['ports'][number]['path'];
export type EnabledPath = `${ProtocolKey}.enabled`;

/** Sending: through a relay (smarthost) when a host is set, else straight to each domain's MX. */
export const RELAY_PATHS = [
  'outbound.relay.host',
  'outbound.relay.port',
  'outbound.relay.tls',
  'outbound.relay.username',
  'outbound.relay.password',
] as const;
export type RelayPath = (typeof RELAY_PATHS)[number];

export const FIELD_PATHS = [
  'hostname',
  ...PROTOCOLS.flatMap((protocol) => [
    `${protocol.key}.enabled` as EnabledPath,
    ...protocol.ports.map((port) => port.path),
  ]),
  'limits.max_message_size',
  'limits.max_line_length',
  'store.engine',
  'store.mongodb.uri',
  ...RELAY_PATHS,
] as const;

export type FieldPath =
  | 'hostname'
  | EnabledPath
  | PortPath
  | 'limits.max_message_size'
  | 'limits.max_line_length'
  | 'store.engine'
  | 'store.mongodb.uri'
  | RelayPath;
export type FieldValue = string | number | boolean;
export type FormValues = Record<FieldPath, FieldValue>;
export type FieldErrors = Partial<Record<FieldPath, string>>;

const PORT_PATHS = new Set<string>(PROTOCOLS.flatMap((protocol) => protocol.ports.map((port) => port.path)));
const NUMERIC = new Set<string>([
  ...PORT_PATHS,
  'limits.max_message_size',
  'limits.max_line_length',
  'outbound.relay.port',
]);

export function isFieldPath(path: string): path is FieldPath {
  return (FIELD_PATHS as readonly string[]).includes(path);
}

export function read(settings: SettingsJson, path: string): unknown {
  let node: unknown = settings;
  for (const key of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

export function fromSettings(settings: SettingsJson): FormValues {
  const values = {} as FormValues;
  for (const path of FIELD_PATHS) {
    const value = read(settings, path);
    // A server from before the on/off switches listens for every protocol.
    if (path.endsWith('.enabled')) values[path] = value !== false;
    else values[path] = typeof value === 'number' || typeof value === 'string' ? value : '';
  }
  return values;
}

/** The value that would be saved for `path`. */
export function effective(values: FormValues, path: FieldPath): FieldValue {
  const value = values[path];
  if (typeof value === 'boolean') return value;
  if (NUMERIC.has(path)) return typeof value === 'number' ? value : value.trim() === '' ? NaN : Number(value);
  return typeof value === 'string' ? value.trim() : value;
}

function wholeNumber(value: FieldValue, min: number, max: number): boolean {
  const number = typeof value === 'number' ? value : Number(value);
  return value !== '' && Number.isInteger(number) && number >= min && number <= max;
}

export function validate(values: FormValues, settings: SettingsJson): FieldErrors {
  const errors: FieldErrors = {};
  const hostname = String(values.hostname).trim();
  if (hostname === '') errors.hostname = 'Enter the name clients use to reach this server';
  else if (!/^[A-Za-z0-9.-]+$/.test(hostname)) errors.hostname = 'Letters, digits, dots and hyphens only';
  else if (hostname.length > 253) errors.hostname = 'At most 253 characters';

  // The server compares ports alone (0.0.0.0 overlaps every address), the admin API's and panel's too.
  const taken = new Map<number, string>([
    [settings.admin?.port ?? 0, 'the admin API'],
    [settings.panel?.port ?? 0, 'the control panel'],
  ]);
  taken.delete(0);
  for (const protocol of PROTOCOLS) {
    if (values[`${protocol.key}.enabled`] !== true) continue;
    for (const port of protocol.ports) {
      const value = effective(values, port.path);
      // A listener already off in the file (port 0) may stay so.
      if (value === 0 && read(settings, port.path) === 0) continue;
      if (!wholeNumber(value, 1, 65535)) {
        errors[port.path] = 'A port from 1 to 65535';
        continue;
      }
      const other = taken.get(Number(value));
      if (other) errors[port.path] = `Port ${value} is already used by ${other}`;
      else taken.set(Number(value), `${protocol.label} ${port.label.toLowerCase()}`);
    }
  }

  if (!wholeNumber(effective(values, 'limits.max_message_size'), 1024, 2 ** 40))
    errors['limits.max_message_size'] = 'At least 1024 bytes (1 KB)';
  if (!wholeNumber(effective(values, 'limits.max_line_length'), 1024, 16 * 1024 * 1024))
    errors['limits.max_line_length'] = 'From 1024 bytes to 16 MB';

  const relayHost = String(values['outbound.relay.host']).trim();
  if (relayHost !== '') {
    if (!/^[A-Za-z0-9.:[\]-]+$/.test(relayHost))
      errors['outbound.relay.host'] = 'A host name or address (letters, digits, dots, hyphens)';
    if (!wholeNumber(effective(values, 'outbound.relay.port'), 1, 65535))
      errors['outbound.relay.port'] = 'A port from 1 to 65535 (587, or 465 with TLS)';
  }

  if (values['store.engine'] === 'mongodb') {
    const uri = String(values['store.mongodb.uri']).trim();
    const localMongod = String(settings.store.mongodb.local ?? '') !== '';
    if (uri === '' && !localMongod) errors['store.mongodb.uri'] = 'Enter the URI of your MongoDB server';
    else if (uri !== '' && !/^mongodb(\+srv)?:\/\//.test(uri))
      errors['store.mongodb.uri'] = 'The URI starts with mongodb:// or mongodb+srv://';
  }
  return errors;
}

/** The keys whose value differs from `base`, nested as in the configuration file. */
export function toPatch(values: FormValues, base: SettingsJson): SettingsPatch {
  const patch: Record<string, unknown> = {};
  for (const path of FIELD_PATHS) {
    const value = effective(values, path);
    const current = read(base, path);
    if (value === current || (path.endsWith('.enabled') && value === true && current === undefined)) continue;
    // A key the server in force does not report (an older server) and the form left empty.
    if (current === undefined && (value === '' || Number.isNaN(value))) continue;
    const keys = path.split('.');
    let node = patch;
    for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[keys.at(-1)!] = value;
  }
  return patch as SettingsPatch;
}

/** Server issue paths ("body.limits.max_message_size") → the form's fields; the rest stay general. */
export function issuesToFields(issues: readonly { path: string; message: string }[]): {
  fields: FieldErrors;
  other: { path: string; message: string }[];
} {
  const fields: FieldErrors = {};
  const other: { path: string; message: string }[] = [];
  for (const issue of issues) {
    const path = issue.path.replace(/^body\./, '');
    if (isFieldPath(path)) fields[path] ??= issue.message;
    else other.push(issue);
  }
  return { fields, other };
}
