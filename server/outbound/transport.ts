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
  /** CAs to check the certificate against instead of the system's (MTA-STS tests). */
  ca?: Buffer;
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

/**
 * One SMTP connection to a destination: connected, greeted, TLS and AUTH done, ready for any
 * number of transactions (RSET between them) while `usable`.
 */
export class SmtpSession {
  private failure: NodemailerError | null = null;
  private ended = false;
  // The client reports a failed connection (refused, timed out, TLS) as an 'error' event, not
  // through a callback: the first error settles whatever is awaited at the time.
  private failed: ((error: NodemailerError) => void) | null = null;

  private constructor(private readonly connection: SMTPConnection) {
    connection.on('error', (error: NodemailerError) => {
      this.failure ??= error;
      this.failed?.(error);
    });
    connection.on('end', () => {
      this.ended = true;
      this.failed?.(
        Object.assign(new Error('connection closed'), { code: 'ECONNECTION' }) as NodemailerError,
      );
    });
  }

  /** Connects (and logs in, for a relay); throws TransportError. */
  static async open(destination: Destination, helo: string): Promise<SmtpSession> {
    const session = new SmtpSession(
      new SMTPConnection({
        host: destination.host,
        port: destination.port,
        secure: destination.tls === 'implicit',
        requireTLS: destination.tls === 'starttls',
        ignoreTLS: destination.tls === 'none',
        opportunisticTLS: destination.tls === 'opportunistic',
        servername: destination.servername,
        name: helo,
        tls: {
          rejectUnauthorized: destination.verifyCertificate,
          servername: destination.servername,
          ...(destination.ca ? { ca: destination.ca } : {}),
        },
        // Mail routing decides where to go (DNS, the relay setting); loopback and private networks
        // are legitimate destinations for a home server (a relay on the LAN, split-horizon DNS).
        allowInternalNetworkInterfaces: true,
        logger: false,
        ...TIMEOUTS,
      }),
    );
    const { connection } = session;
    try {
      await session.step<void>((resolve, reject) =>
        connection.connect((error) => (error ? reject(error) : resolve())),
      );
    } catch (error) {
      connection.close();
      const cause = error as NodemailerError;
      throw new TransportError(replyOf(cause), isPermanent(cause), cause.responseCode === undefined);
    }
    if (destination.auth) {
      try {
        await session.step<void>((resolve, reject) =>
          connection.login(destination.auth, (error) => (error ? reject(error) : resolve())),
        );
      } catch (error) {
        session.close();
        // A relay refusing our login is our configuration's fault, not the message's: it waits
        // (the reply shows in the queue) until the operator fixes the password, never bounces.
        throw new TransportError(replyOf((session.failure ?? error) as NodemailerError), false, false);
      }
    }
    return session;
  }

  /** Whether another transaction may go over this connection. */
  get usable(): boolean {
    return this.failure === null && !this.ended;
  }

  private step<T>(
    start: (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.failed = reject;
      start(resolve, reject);
    }).finally(() => {
      this.failed = null;
    });
  }

  /** One transaction (MAIL, RCPT each, DATA); throws TransportError when no recipient got an answer. */
  async send(sender: string, recipients: string[], raw: Buffer): Promise<RecipientVerdict[]> {
    try {
      const info = await this.step<{
        accepted: string[];
        rejectedErrors: NodemailerError[];
        response: string;
      }>((resolve, reject) =>
        this.connection.send({ from: sender, to: recipients }, raw, (error, result) => {
          if (error) return reject(error);
          resolve({
            accepted: result!.accepted,
            rejectedErrors: result!.rejectedErrors ?? [],
            response: result!.response,
          });
        }),
      );
      return verdicts(recipients, info.accepted, info.rejectedErrors, info.response);
    } catch (error) {
      const cause = (this.failure ?? error) as NodemailerError;
      this.failure ??= cause; // the connection is in an unknown state: not reused
      // Every recipient refused at RCPT: nodemailer reports it as one error with the details.
      if (cause.rejectedErrors && cause.rejectedErrors.length > 0 && cause.code === 'EENVELOPE') {
        return verdicts(recipients, [], cause.rejectedErrors, '');
      }
      throw new TransportError(replyOf(cause), isPermanent(cause), false);
    }
  }

  /** RSET, before the next transaction on this connection; false when the server did not take it. */
  async reset(): Promise<boolean> {
    try {
      await this.step<void>((resolve, reject) =>
        this.connection.reset((error) => (error ? reject(error) : resolve())),
      );
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.ended = true;
    this.connection.quit();
    setTimeout(() => this.connection.close(), 1000).unref();
  }
}

/** Where sendMessage gets and returns connections (server/outbound/pool.ts), or none: a new one each time. */
export interface SessionSource {
  acquire(destination: Destination, helo: string): Promise<{ session: SmtpSession; reused: boolean }>;
  /** `keep`: another message for this destination is waiting, so the connection may serve it. */
  release(destination: Destination, session: SmtpSession, keep: boolean): Promise<void>;
}

/** Sends one message; throws TransportError when no recipient got an answer. */
export async function sendMessage(
  request: SendRequest,
  source?: SessionSource,
  /** Asked once the message is sent: whether more wait for this destination (keep the connection). */
  moreWaiting: () => boolean = () => false,
): Promise<RecipientVerdict[]> {
  const { destination, helo } = request;
  if (!source) {
    const session = await SmtpSession.open(destination, helo);
    try {
      return await session.send(request.sender, request.recipients, request.raw);
    } finally {
      session.close();
    }
  }
  const { session, reused } = await source.acquire(destination, helo);
  try {
    return await session.send(request.sender, request.recipients, request.raw);
  } catch (error) {
    // A kept connection the server has closed meanwhile (idle timeout, 421): once more on a new one.
    if (!reused || !(error instanceof TransportError) || error.permanent) throw error;
    const fresh = await SmtpSession.open(destination, helo);
    try {
      return await fresh.send(request.sender, request.recipients, request.raw);
    } finally {
      await source.release(destination, fresh, moreWaiting());
    }
  } finally {
    await source.release(destination, session, moreWaiting());
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
