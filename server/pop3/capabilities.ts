/**
 * The CAPA list (RFC 2449) for a session. Only what fully works is advertised. Where a password
 * needs TLS first (no TLS yet, and not from loopback or a `require-tls` rule applies: see
 * tlsRequiredForPasswords), USER and SASL are left out (RFC 2595 4, RFC 4954 4: PLAIN is not
 * advertised without TLS) and STLS is offered; the commands themselves refuse too. The capabilities
 * of the AUTHORIZATION state are announced in the TRANSACTION state as well (RFC 2449 5: "MUST be
 * announced in both states"), as the connection had them when the user logged in.
 */
import type { Pop3Session } from './context.ts';

export const SASL_MECHANISMS = ['PLAIN', 'LOGIN'] as const;

export function capabilityList(
  session: Pick<Pop3Session, 'state' | 'secure'>,
  tlsRequired: boolean,
): string[] {
  const capabilities = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  if (!tlsRequired) capabilities.push('USER', `SASL ${SASL_MECHANISMS.join(' ')}`);
  if (!session.secure) capabilities.push('STLS');
  // Mallard never removes mail on its own (no retention policy), so EXPIRE NEVER is true.
  capabilities.push('EXPIRE NEVER', 'IMPLEMENTATION Mallard');
  return capabilities;
}
