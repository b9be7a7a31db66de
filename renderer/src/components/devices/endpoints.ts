/**
 * The server's ways in, as a device sees them: the live listeners of the status when the server
 * runs (they are what really answers), otherwise the configured ports. Port 0 is a disabled listener.
 */
import type { MailSettings, StatusJson } from '../../api/devices.ts';
import type { IncomingEndpoint, OutgoingServer } from './profiles.ts';

export interface ServerEndpoints {
  incoming: IncomingEndpoint[];
  /** Where mail from other servers arrives (SMTP without authentication), or null when off. */
  smtpIn: number | null;
  /** Where the users' mail apps send (authenticated submission), or null when off. */
  submission: Submission | null;
}

export interface Submission {
  port: number;
  security: 'ssl' | 'starttls';
}

/** Implicit TLS (465) before STARTTLS (587), as RFC 8314 recommends. */
function preferredSubmission(candidates: Submission[]): Submission | null {
  return candidates.find((candidate) => candidate.security === 'ssl') ?? candidates[0] ?? null;
}

/** IMAP before POP3, implicit TLS before STARTTLS: the order a person should try them. */
const rank = (endpoint: IncomingEndpoint) =>
  (endpoint.protocol === 'imap' ? 0 : 2) + (endpoint.security === 'ssl' ? 0 : 1);

function dedupe(endpoints: IncomingEndpoint[]): IncomingEndpoint[] {
  const seen = new Set<string>();
  const sorted = [...endpoints].sort((a, b) => rank(a) - rank(b) || a.port - b.port);
  return sorted.filter((endpoint) => {
    const key = `${endpoint.protocol}:${endpoint.port}:${endpoint.security}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function serverEndpoints(settings: MailSettings, status: StatusJson | undefined): ServerEndpoints {
  if (status) {
    const incoming: IncomingEndpoint[] = [];
    let smtpIn: number | null = null;
    const submission: Submission[] = [];
    for (const listener of status.listeners) {
      if (listener.protocol === 'imap' || listener.protocol === 'pop3') {
        incoming.push({
          protocol: listener.protocol,
          port: listener.port,
          security: listener.tls === 'implicit' ? 'ssl' : 'starttls',
        });
      } else if (listener.protocol === 'smtp') {
        smtpIn ??= listener.port;
      } else if (listener.protocol === 'submission') {
        submission.push({ port: listener.port, security: listener.tls === 'implicit' ? 'ssl' : 'starttls' });
      }
    }
    return { incoming: dedupe(incoming), smtpIn, submission: preferredSubmission(submission) };
  }
  const { ports } = settings;
  const configured: IncomingEndpoint[] = [
    { protocol: 'imap', port: ports.imapTls, security: 'ssl' },
    { protocol: 'imap', port: ports.imap, security: 'starttls' },
    { protocol: 'pop3', port: ports.pop3Tls, security: 'ssl' },
    { protocol: 'pop3', port: ports.pop3, security: 'starttls' },
  ];
  const submission: Submission[] = [
    { port: ports.submissionTls, security: 'ssl' },
    { port: ports.submission, security: 'starttls' },
  ];
  return {
    incoming: dedupe(configured.filter((endpoint) => endpoint.port > 0)),
    smtpIn: ports.smtp || null,
    submission: preferredSubmission(submission.filter((candidate) => candidate.port > 0)),
  };
}

/** What the outgoing-server fields of the page hold. */
export interface OutgoingForm {
  hostname: string;
  port: number | string;
  security: OutgoingServer['security'];
  authenticate: boolean;
}

/**
 * The outgoing server for the files: the one the admin typed, else this server's submission port
 * with the account's login, else (submission off) its SMTP-in port as a placeholder — that one
 * takes mail for local users only, so sending elsewhere fails until the user sets a real one.
 */
export function outgoingServer(
  form: OutgoingForm,
  hostname: string,
  endpoints: ServerEndpoints,
): OutgoingServer {
  const port = Number(form.port);
  if (form.hostname.trim() !== '' && Number.isInteger(port) && port > 0 && port < 65536) {
    return { hostname: form.hostname.trim(), port, security: form.security, authenticate: form.authenticate };
  }
  if (endpoints.submission) return { hostname, ...endpoints.submission, authenticate: true };
  return { hostname, port: endpoints.smtpIn ?? 25, security: 'starttls', authenticate: false };
}
