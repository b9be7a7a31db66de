/**
 * The capability list for a session's state. Only what fully works is advertised. Where a password
 * needs TLS first (no TLS yet, and not from loopback or a `require-tls` rule applies: see
 * tlsRequiredForPasswords), LOGINDISABLED replaces the AUTH= mechanisms (RFC 3501 6.2.3, RFC 8314:
 * no passwords in clear text over the network), so clients do not send one.
 *
 * Literals (RFC 7888): LITERAL- before login (a stranger's non-synchronising literals stay
 * small; the framer refuses bigger ones), LITERAL+ once logged in. Never both (RFC 7888 4).
 */
import type { Config } from '../config/schema.ts';
import type { ImapSession } from './context.ts';
import { uidOnlyAllowed } from './uidonly.ts';

/** Advertised in every state, after IMAP4rev1 and the literal capability. */
const BASE = [
  'SASL-IR',
  'ID',
  'ENABLE',
  'IDLE',
  'NAMESPACE',
  'UNSELECT',
  'UIDPLUS',
  'MOVE',
  'CHILDREN',
  'SPECIAL-USE',
  'XLIST',
  'CONDSTORE',
  'QRESYNC',
  'QUOTA',
  'UTF8=ACCEPT',
  'WITHIN',
  'LIST-EXTENDED',
  'LIST-STATUS',
  'CREATE-SPECIAL-USE',
  'ESEARCH',
  'METADATA',
  'METADATA-SERVER',
  'SEARCHRES',
  'SORT',
  'SORT=DISPLAY',
  'ESORT',
  'CONTEXT=SEARCH',
  'CONTEXT=SORT',
  'PARTIAL',
  'THREAD=ORDEREDSUBJECT',
  'THREAD=REFERENCES',
  'THREAD=REFS',
  'BINARY',
  'MULTIAPPEND',
  'CATENATE',
  'URLAUTH',
  'URL-PARTIAL',
  'URLAUTH=BINARY',
  'UNAUTHENTICATE',
  'REPLACE',
  'SAVEDATE',
  'STATUS=SIZE',
  'OBJECTID',
  'PREVIEW',
  'NOTIFY',
];

export function capabilityList(session: ImapSession, config: Config, tlsRequired: boolean): string[] {
  const literals = session.state === 'not-authenticated' ? 'LITERAL-' : 'LITERAL+';
  const capabilities = [
    'IMAP4rev1',
    literals,
    'IMAP4rev2',
    ...BASE,
    `APPENDLIMIT=${config.limits.max_message_size}`,
  ];
  if (!session.compressed) capabilities.push('COMPRESS=DEFLATE');
  // Once logged in, only where the account allows it (some Outlook builds mishandle UIDONLY).
  if (session.state !== 'not-authenticated' && uidOnlyAllowed(session, config)) capabilities.push('UIDONLY');
  if (session.state === 'not-authenticated') {
    if (!session.secure) capabilities.push('STARTTLS');
    if (tlsRequired) capabilities.push('LOGINDISABLED');
    else capabilities.push('AUTH=PLAIN', 'AUTH=LOGIN');
  }
  return capabilities;
}
