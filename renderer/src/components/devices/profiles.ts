/**
 * Mail client set-up files, made in the browser from the server's settings: an Apple configuration
 * profile (.mobileconfig, an XML property list with a com.apple.mail.managed payload and, for a
 * local CA, a com.apple.security.root payload) and a Thunderbird autoconfig file
 * (config-v1.1.xml). Pure functions: no DOM, no network, so they are unit-tested directly.
 */

export type Security = 'ssl' | 'starttls' | 'none';

/** One way in to the mailbox: IMAP or POP3 on a port, with implicit TLS or STARTTLS. */
export interface IncomingEndpoint {
  protocol: 'imap' | 'pop3';
  port: number;
  security: Exclude<Security, 'none'>;
}

/**
 * Where the client sends mail. Mallard has no authenticated submission: this is the user's own
 * provider or a relay, typed by the admin, or the server's SMTP-in port as a placeholder.
 */
export interface OutgoingServer {
  hostname: string;
  port: number;
  security: Security;
  authenticate: boolean;
  /** Defaults to the email address. */
  username?: string;
}

export interface AccountSettings {
  /** The server's public host name (the certificate's name). */
  hostname: string;
  /** The login name, which is also the email address. */
  email: string;
  displayName?: string;
  incoming: IncomingEndpoint[];
  outgoing: OutgoingServer;
  /** Further outgoing servers autoconfig lists after `outgoing` (587 beside 465); profiles take one. */
  moreOutgoing?: OutgoingServer[];
}

export interface MobileconfigOptions {
  account: AccountSettings;
  accountType: 'imap' | 'pop3';
  /** Put into the profile only when the admin typed one; otherwise the phone asks for it. */
  password?: string;
  /** The local CA certificate (DER, base64) for a com.apple.security.root payload. */
  caDerBase64?: string;
  /** A random v4 UUID by default; tests pass their own. */
  uuid?: () => string;
}

/** Characters XML 1.0 does not allow at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF). */
const INVALID_XML =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text safe inside an XML element or a double- or single-quoted attribute. */
export function escapeXml(value: string): string {
  return value
    .replace(INVALID_XML, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** A random RFC 4122 version 4 UUID from getRandomValues (randomUUID needs a secure context). */
export function randomUuid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`.toUpperCase();
}

/** A reverse-DNS identifier part: letters, digits, dots and hyphens only. */
function identifierPart(value: string): string {
  return (
    value
      .toLowerCase()
      .replace(/[^a-z0-9.-]+/g, '-')
      .replace(/^[.-]+|[.-]+$/g, '') || 'mail'
  );
}

// --- property list ---

type PlistValue = string | number | boolean | PlistData | PlistValue[] | { [key: string]: PlistValue };

/** Binary data, written as <data> with base64 (already encoded). */
export interface PlistData {
  base64: string;
}

function isData(value: PlistValue): value is PlistData {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    'base64' in value &&
    typeof (value as PlistData).base64 === 'string' &&
    Object.keys(value).length === 1
  );
}

function plistValue(value: PlistValue, indent: string): string {
  const inner = `${indent}\t`;
  if (typeof value === 'string') return `${indent}<string>${escapeXml(value)}</string>`;
  if (typeof value === 'boolean') return `${indent}<${value ? 'true' : 'false'}/>`;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`plist integers only, got ${value}`);
    return `${indent}<integer>${value}</integer>`;
  }
  if (Array.isArray(value)) {
    return [`${indent}<array>`, ...value.map((item) => plistValue(item, inner)), `${indent}</array>`].join(
      '\n',
    );
  }
  if (isData(value)) {
    // Base64 is only A-Z a-z 0-9 + / =: anything else is dropped rather than trusted.
    const clean = value.base64.replace(/[^A-Za-z0-9+/=]/g, '');
    const lines = clean.match(/.{1,64}/g) ?? [];
    return [`${indent}<data>`, ...lines.map((line) => `${inner}${line}`), `${indent}</data>`].join('\n');
  }
  const entries = Object.entries(value).flatMap(([key, item]) => [
    `${inner}<key>${escapeXml(key)}</key>`,
    plistValue(item, inner),
  ]);
  return [`${indent}<dict>`, ...entries, `${indent}</dict>`].join('\n');
}

export function plist(root: { [key: string]: PlistValue }): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    plistValue(root, ''),
    '</plist>',
    '',
  ].join('\n');
}

// --- Apple configuration profile ---

function pickIncoming(account: AccountSettings, protocol: 'imap' | 'pop3'): IncomingEndpoint {
  const candidates = account.incoming.filter((endpoint) => endpoint.protocol === protocol);
  // Implicit TLS first: it cannot be downgraded by a network in the middle.
  const chosen = candidates.find((endpoint) => endpoint.security === 'ssl') ?? candidates[0];
  if (!chosen) throw new Error(`the server has no ${protocol.toUpperCase()} listener`);
  return chosen;
}

/** The .mobileconfig text for one account: a mail payload, and the local CA when given. */
export function mobileconfig(options: MobileconfigOptions): string {
  const { account, accountType } = options;
  const uuid = options.uuid ?? randomUuid;
  const incoming = pickIncoming(account, accountType);
  const { outgoing } = account;
  const base = `mallard.${identifierPart(account.hostname)}`;
  const who = identifierPart(account.email);
  const label = account.displayName ? `${account.displayName} (${account.email})` : account.email;

  const mail: { [key: string]: PlistValue } = {
    PayloadType: 'com.apple.mail.managed',
    PayloadVersion: 1,
    PayloadIdentifier: `${base}.mail.${who}`,
    PayloadUUID: uuid(),
    PayloadDisplayName: `Mail: ${account.email}`,
    PayloadDescription: `Mail account ${account.email} on ${account.hostname}`,
    EmailAccountDescription: `${account.email} (${account.hostname})`,
    EmailAccountName: account.displayName || account.email,
    EmailAccountType: accountType === 'imap' ? 'EmailTypeIMAP' : 'EmailTypePOP',
    EmailAddress: account.email,
    IncomingMailServerAuthentication: 'EmailAuthPassword',
    IncomingMailServerHostName: account.hostname,
    IncomingMailServerPortNumber: incoming.port,
    IncomingMailServerUseSSL: true,
    IncomingMailServerUsername: account.email,
    OutgoingMailServerAuthentication: outgoing.authenticate ? 'EmailAuthPassword' : 'EmailAuthNone',
    OutgoingMailServerHostName: outgoing.hostname,
    OutgoingMailServerPortNumber: outgoing.port,
    OutgoingMailServerUseSSL: outgoing.security !== 'none',
    OutgoingMailServerUsername: outgoing.username || account.email,
    OutgoingPasswordSameAsIncomingPassword: outgoing.authenticate && !outgoing.username,
    PreventMove: false,
    PreventAppSheet: false,
    SMIMEEnabled: false,
    allowMailDrop: false,
  };
  if (options.password) mail.IncomingPassword = options.password;

  const payloads: PlistValue[] = [mail];
  if (options.caDerBase64) {
    payloads.unshift({
      PayloadType: 'com.apple.security.root',
      PayloadVersion: 1,
      PayloadIdentifier: `${base}.ca`,
      PayloadUUID: uuid(),
      PayloadDisplayName: `Certificate authority of ${account.hostname}`,
      PayloadDescription: 'Lets this device trust the mail server’s certificate',
      PayloadCertificateFileName: `${identifierPart(account.hostname)}-ca.cer`,
      PayloadContent: { base64: options.caDerBase64 },
    });
  }

  return plist({
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: `${base}.profile.${who}`,
    PayloadUUID: uuid(),
    PayloadDisplayName: `Mail on ${account.hostname}`,
    PayloadDescription: `Sets up ${label} on this device.`,
    PayloadOrganization: account.hostname,
    PayloadRemovalDisallowed: false,
    PayloadContent: payloads,
  });
}

// --- Thunderbird autoconfig ---

const SOCKET: Record<Security, string> = { ssl: 'SSL', starttls: 'STARTTLS', none: 'plain' };

function element(indent: string, name: string, text: string | number): string {
  return `${indent}<${name}>${escapeXml(String(text))}</${name}>`;
}

/** The config-v1.1.xml Thunderbird reads from autoconfig.<domain> or a file: every way in, best first. */
export function thunderbirdAutoconfig(account: AccountSettings): string {
  const domain = account.email.includes('@')
    ? account.email.slice(account.email.lastIndexOf('@') + 1)
    : account.hostname;
  // IMAP before POP3, implicit TLS before STARTTLS: Thunderbird offers the first one it can reach.
  const order = (endpoint: IncomingEndpoint) =>
    (endpoint.protocol === 'imap' ? 0 : 2) + (endpoint.security === 'ssl' ? 0 : 1);
  const incoming = [...account.incoming].sort((a, b) => order(a) - order(b));
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${escapeXml(domain)}">`,
    element('    ', 'domain', domain),
    element('    ', 'displayName', `Mail on ${account.hostname}`),
    element('    ', 'displayShortName', account.hostname),
    ...incoming.flatMap((endpoint) => [
      `    <incomingServer type="${endpoint.protocol}">`,
      element('      ', 'hostname', account.hostname),
      element('      ', 'port', endpoint.port),
      element('      ', 'socketType', SOCKET[endpoint.security]),
      element('      ', 'authentication', 'password-cleartext'),
      element('      ', 'username', '%EMAILADDRESS%'),
      '    </incomingServer>',
    ]),
    ...[account.outgoing, ...(account.moreOutgoing ?? [])].flatMap((server) => [
      '    <outgoingServer type="smtp">',
      element('      ', 'hostname', server.hostname),
      element('      ', 'port', server.port),
      element('      ', 'socketType', SOCKET[server.security]),
      element('      ', 'authentication', server.authenticate ? 'password-cleartext' : 'none'),
      ...(server.authenticate ? [element('      ', 'username', server.username || '%EMAILADDRESS%')] : []),
      '    </outgoingServer>',
    ]),
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ];
  return lines.join('\n');
}

/** File names without characters a file system or a download bar would mangle. */
export function safeFileName(value: string): string {
  return value.replace(/[^A-Za-z0-9@._-]+/g, '_').slice(0, 100) || 'mail';
}
