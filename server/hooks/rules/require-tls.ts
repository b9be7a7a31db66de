/**
 * `require-tls`: no login on a connection without TLS (implicit TLS, or after STARTTLS / STLS),
 * not even from loopback, where `tls.plaintext_auth_on_loopback` would otherwise allow it. LMTP and
 * SMTP have no login here, so the rule never applies to them.
 *
 * `tlsRequired` lets the protocols know before a login starts: IMAP then advertises LOGINDISABLED
 * and refuses LOGIN/AUTHENTICATE with PRIVACYREQUIRED before a password is sent, POP3 leaves USER
 * and SASL out of CAPA and refuses USER and AUTH. `auth` still refuses, for a rule added while a
 * login was under way.
 */
import { REASONS, type RuleFactory } from '../rule.ts';

export const requireTlsRule: RuleFactory = (rule) => ({
  rule,
  reason: REASONS.auth,
  temporary: false,
  auth: (context) => (context.session.secure ? null : 'deny'),
  tlsRequired: (context) => !context.session.secure,
});
