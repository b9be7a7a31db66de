/**
 * `require-tls`: no login on a connection without TLS (implicit TLS, or after STARTTLS / STLS),
 * not even from loopback, where `tls.plaintext_auth_on_loopback` would otherwise allow it. LMTP and
 * SMTP have no login here, so the rule never applies to them.
 */
import { REASONS, type RuleFactory } from '../rule.ts';

export const requireTlsRule: RuleFactory = (rule) => ({
  rule,
  reason: REASONS.auth,
  temporary: false,
  auth: (context) => (context.session.secure ? null : 'deny'),
});
