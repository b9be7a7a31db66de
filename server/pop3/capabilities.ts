/**
 * The CAPA list (RFC 2449) for a session. Only what fully works is advertised. Before TLS on a
 * connection that is not from loopback, USER and SASL are left out (RFC 2595 4: no passwords in
 * clear text over the network) and STLS is offered; the commands themselves refuse too. The
 * capabilities of the AUTHORIZATION state are announced in the TRANSACTION state as well (RFC 2449
 * 5: "MUST be announced in both states"), as the connection had them when the user logged in.
 */
import { passwordsAllowed } from '../auth/login-policy.ts';
import type { Pop3Session } from './context.ts';

export const SASL_MECHANISMS = ['PLAIN', 'LOGIN'] as const;

export function capabilityList(session: Pick<Pop3Session, 'state' | 'secure' | 'loopback'>): string[] {
  const capabilities = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  if (passwordsAllowed(session)) capabilities.push('USER', `SASL ${SASL_MECHANISMS.join(' ')}`);
  if (!session.secure) capabilities.push('STLS');
  // Mallard never removes mail on its own (no retention policy), so EXPIRE NEVER is true.
  capabilities.push('EXPIRE NEVER', 'IMPLEMENTATION Mallard');
  return capabilities;
}
