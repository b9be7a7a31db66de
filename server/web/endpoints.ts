/**
 * The ways in a client is told about: the listeners that really run (so disabled protocols are
 * left out and tests on free ports get their ports), under the server's public name.
 */
import type {
  AccountSettings,
  IncomingEndpoint,
  OutgoingServer,
} from '../../renderer/src/components/devices/profiles.ts';
import type { RunningListener } from '../net/listener.ts';

export interface MailListeners {
  imap: readonly RunningListener[];
  pop3: readonly RunningListener[];
  submission: readonly RunningListener[];
  /** SMTP-in: only a placeholder when submission is off (it takes mail for local users only). */
  smtp: readonly RunningListener[];
}

/** Implicit TLS before STARTTLS: Outlook and Apple take the first they can reach. */
function incomingOf(protocol: 'imap' | 'pop3', listeners: readonly RunningListener[]): IncomingEndpoint[] {
  return [...listeners]
    .sort((a, b) => Number(b.implicitTls) - Number(a.implicitTls))
    .map((listener) => ({
      protocol,
      port: listener.port,
      security: listener.implicitTls ? 'ssl' : 'starttls',
    }));
}

/** Submission with implicit TLS first (465, RFC 8314 prefers it), then STARTTLS (587). */
function outgoingOf(hostname: string, listeners: MailListeners): OutgoingServer[] {
  const submission = [...listeners.submission].sort((a, b) => Number(b.implicitTls) - Number(a.implicitTls));
  if (submission.length === 0) {
    return [{ hostname, port: listeners.smtp[0]?.port ?? 25, security: 'starttls', authenticate: false }];
  }
  return submission.map((listener) => ({
    hostname,
    port: listener.port,
    security: listener.implicitTls ? 'ssl' : 'starttls',
    authenticate: true,
  }));
}

export function accountSettings(hostname: string, email: string, listeners: MailListeners): AccountSettings {
  const [outgoing, ...moreOutgoing] = outgoingOf(hostname, listeners);
  return {
    hostname,
    email,
    incoming: [...incomingOf('imap', listeners.imap), ...incomingOf('pop3', listeners.pop3)],
    outgoing: outgoing!,
    moreOutgoing,
  };
}
