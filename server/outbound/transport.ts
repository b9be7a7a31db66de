/**
 * One SMTP transaction to one destination with nodemailer's SMTP client: connect, EHLO,
 * STARTTLS when offered (opportunistic for MX hosts, RFC 7435: a certificate we cannot check still
 * beats plain text; required and verified for a relay that asks for it), AUTH for a relay, then
 * MAIL, one RCPT per recipient and DATA. The outcome is per recipient, from the server's replies.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { NodemailerError } from 'nodemailer/lib/errors';

export interface Destination {
  /** IP address (or name) to connect to. */
  host: string;
  port: number;
  /** Name for SNI and certificate checks (the MX or relay host name). */
  servername: string;
  /** implicit: TLS from the first byte (465); starttls: required; opportunistic: when offered. */
  tls: 'implicit' | 'starttls' | 'opportunistic' | 'none';
  verifyCertificate: boolean;
  auth?: { user: string; pass: string };
}

export type RecipientVerdict =
  | { address: string; ok: true; reply: string }
  | { address: string; ok: false; permanent: boolean; reply: string };

/** A failure before any recipient was answered (connect, greeting, TLS, AUTH, MAIL FROM). */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    /** True when the host could not be talked to at all: the next MX host may do. */
    readonly unreachable: boolean,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

const TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 5 * 60_000 };

function replyOf(error: NodemailerError): string {
  return (error.response ?? error.message).replace(/\s+/g, ' ').trim().slice(0, 500);
}

function isPermanent(error: NodemailerError): boolean {
  return typeof error.responseCode === 'number' && error.responseCode >= 500 && error.responseCode !== 503;
}

export interface SendRequest {
  destination: Destination;
  /** Our name in EHLO. */
  helo: string;
  sender: string;
  recipients: string[];
  raw: Buffer;
}

/** Sends one message; throws TransportError when no recipient got an answer. */
export async function sendMessage(request: SendRequest): Promise<RecipientVerdict[]> {
  const { destination } = request;
  const connection = new SMTPConnection({
    host: destination.host,
    port: destination.port,
    secure: destination.tls === 'implicit',
    requireTLS: destination.tls === 'starttls',
    ignoreTLS: destination.tls === 'none',
    opportunisticTLS: destination.tls === 'opportunistic',
    servername: destination.servername,
    name: request.helo,
    tls: { rejectUnauthorized: destination.verifyCertificate, servername: destination.servername },
    // Mail routing decides where to go (DNS, the relay setting); loopback and private networks are
    // legitimate destinations for a home server (a relay on the LAN, split-horizon DNS).
    allowInternalNetworkInterfaces: true,
    logger: false,
    ...TIMEOUTS,
  });
  let failure: NodemailerError | null = null;
  // The client reports a failed connection (refused, timed out, TLS) as an 'error' event, not
  // through connect's callback: the first error settles whatever is awaited at the time.
  let failed: ((error: NodemailerError) => void) | null = null;
  connection.on('error', (error: NodemailerError) => {
    failure ??= error;
    failed?.(error);
  });
  connection.on('end', () => {
    failed?.(Object.assign(new Error('connection closed'), { code: 'ECONNECTION' }) as NodemailerError);
  });
  const step = <T>(
    start: (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      failed = reject;
      start(resolve, reject);
    }).finally(() => {
      failed = null;
    });
  try {
    await step<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
  } catch (error) {
    connection.close();
    const cause = error as NodemailerError;
    throw new TransportError(replyOf(cause), isPermanent(cause), cause.responseCode === undefined);
  }
  try {
    if (destination.auth) {
      await step<void>((resolve, reject) =>
        connection.login(destination.auth, (error) => (error ? reject(error) : resolve())),
      );
    }
    const info = await step<{
      accepted: string[];
      rejectedErrors: NodemailerError[];
      response: string;
    }>((resolve, reject) =>
      connection.send({ from: request.sender, to: request.recipients }, request.raw, (error, result) => {
        if (error) return reject(error);
        resolve({
          accepted: result!.accepted,
          rejectedErrors: result!.rejectedErrors ?? [],
          response: result!.response,
        });
      }),
    );
    return verdicts(request.recipients, info.accepted, info.rejectedErrors, info.response);
  } catch (error) {
    const cause = (failure ?? error) as NodemailerError;
    // Every recipient refused at RCPT: nodemailer reports it as one error with the details.
    if (cause.rejectedErrors && cause.rejectedErrors.length > 0 && cause.code === 'EENVELOPE') {
      return verdicts(request.recipients, [], cause.rejectedErrors, '');
    }
    // A relay refusing our login is our configuration's fault, not the message's: it waits (and
    // the reply shows in the queue) until the operator fixes the password, instead of bouncing.
    const permanent = cause.code !== 'EAUTH' && isPermanent(cause);
    throw new TransportError(replyOf(cause), permanent, false);
  } finally {
    connection.quit();
    setTimeout(() => connection.close(), 1000).unref();
  }
}

function verdicts(
  recipients: string[],
  accepted: string[],
  rejected: NodemailerError[],
  response: string,
): RecipientVerdict[] {
  const acceptedSet = new Set(accepted.map((address) => address.toLowerCase()));
  return recipients.map((address) => {
    if (acceptedSet.has(address.toLowerCase())) return { address, ok: true, reply: response };
    const error = rejected.find((item) => item.recipient?.toLowerCase() === address.toLowerCase());
    if (!error) return { address, ok: false, permanent: false, reply: 'no reply for this recipient' };
    return { address, ok: false, permanent: isPermanent(error), reply: replyOf(error) };
  });
}
