/**
 * The capability list for a session's state. Only what fully works is advertised. Before TLS on a
 * connection that is not from loopback, LOGINDISABLED replaces the AUTH= mechanisms (RFC 3501 /
 * RFC 8314: no passwords in clear text over the network).
 */
import { passwordsAllowed } from '../auth/login-policy.ts';
import type { Config } from '../config/schema.ts';
import type { ImapSession } from './context.ts';

const BASE = [
  'IMAP4rev1',
  'LITERAL+',
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
  'QUOTA',
  'UTF8=ACCEPT',
  'WITHIN',
  'LIST-EXTENDED',
  'LIST-STATUS',
  'CREATE-SPECIAL-USE',
  'ESEARCH',
];

/** Whether a password may be sent on this connection (the rule is shared with POP3). */
export { passwordsAllowed };

export function capabilityList(session: ImapSession, config: Config): string[] {
  const capabilities = [...BASE, `APPENDLIMIT=${config.limits.max_message_size}`];
  if (!session.compressed) capabilities.push('COMPRESS=DEFLATE');
  if (session.state === 'not-authenticated') {
    if (!session.secure) capabilities.push('STARTTLS');
    if (passwordsAllowed(session)) capabilities.push('AUTH=PLAIN', 'AUTH=LOGIN');
    else capabilities.push('LOGINDISABLED');
  }
  return capabilities;
}
