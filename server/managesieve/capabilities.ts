/**
 * The capability list (RFC 5804 1.7), sent in the greeting, after STARTTLS and for CAPABILITY.
 * Where a password needs TLS first (see tlsRequiredForPasswords), SASL lists no mechanism, as
 * Pigeonhole does with disable_plaintext_auth, and AUTHENTICATE refuses with ENCRYPT-NEEDED.
 * SIEVE is what the interpreter supports; MAXREDIRECTS its per-run redirect limit. There is no
 * NOTIFY: the interpreter has no enotify.
 */
import { DEFAULT_LIMITS, SUPPORTED_EXTENSIONS } from '../sieve/index.ts';
import { VERSION } from '../version.ts';
import type { ManageSieveSession } from './context.ts';
import { capabilityLine } from './encoder.ts';

export const SASL_MECHANISMS = ['PLAIN', 'LOGIN'] as const;

export function capabilityLines(
  session: Pick<ManageSieveSession, 'secure' | 'user'>,
  tlsRequired: boolean,
): string {
  const lines = [
    capabilityLine('IMPLEMENTATION', `Mallard ${VERSION}`),
    capabilityLine('SASL', tlsRequired ? '' : SASL_MECHANISMS.join(' ')),
    capabilityLine('SIEVE', SUPPORTED_EXTENSIONS.join(' ')),
  ];
  if (!session.secure) lines.push(capabilityLine('STARTTLS'));
  lines.push(capabilityLine('MAXREDIRECTS', String(DEFAULT_LIMITS.maxRedirects)));
  if (session.user) lines.push(capabilityLine('OWNER', session.user.username));
  lines.push(capabilityLine('VERSION', '1.0'));
  return lines.join('');
}
