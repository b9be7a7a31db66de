/**
 * One SMTP transaction to one destination with nodemailer's SMTP client: connect, EHLO,
 * STARTTLS when offered (opportunistic for MX hosts, RFC 7435: a certificate we cannot check still
 * beats plain text; required and verified for a relay that asks for it), AUTH for a relay, then
 * MAIL, one RCPT per recipient and DATA. The outcome is per recipient, from the server's replies.
 *
 * RFC 3461 parameters are passed on to a next hop that offers DSN (RET and ENVID on MAIL FROM,
 * NOTIFY and ORCPT on RCPT TO); that hop then owns the recipient's reports. nodemailer takes one
 * set of RCPT TO parameters per transaction, so recipients with different ones go in separate
 * transactions over the same connection.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { NodemailerError } from 'nodemailer/lib/errors';
import type { MessageDsn, RecipientDsn } from '../store/outbound.ts';

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
  | {
      address: string;
      ok: true;
      reply: string;
      /** The next hop offered DSN and got the recipient's parameters: reports are its duty now. */
      nextHopDsn: boolean;
    }
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

/** A recipient with what the submitting client asked of its delivery reports (RCPT TO). */
export interface OutgoingRecipient {
  address: string;
  dsn?: RecipientDsn;
}

export interface SendRequest {
  destination: Destination;
  /** Our name in EHLO. */
  helo: string;
  sender: string;
  recipients: OutgoingRecipient[];
  raw: Buffer;
  /** MAIL FROM's RET and ENVID, passed on with every transaction. */
  dsn?: MessageDsn;
}

/** Recipients that can share a transaction: the same NOTIFY and ORCPT. */
function dsnKey(recipient: OutgoingRecipient): string {
  return JSON.stringify([recipient.dsn?.notify?.join(',') ?? null, recipient.dsn?.orcpt ?? null]);
}

/**
 * One SMTP connection to a destination: connected, greeted, TLS and AUTH done, ready for any
 * number of transactions (RSET between them) while `usable`.
 */
export class SmtpSession {
  private failure: NodemailerError | null = null;
  private ended = false;
  /** Whether the server's EHLO reply offers DSN (RFC 3461): then its parameters are passed on. */
  offersDsn = false;
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
      // Once connected, the last reply is EHLO's (after STARTTLS, the second one's).
      session.offersDsn = /[ -]DSN\b/im.test(String(connection.lastServerResponse));
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

  /**
   * One transaction (MAIL, RCPT each, DATA) for recipients with the same RFC 3461 parameters;
   * throws TransportError when no recipient got an answer.
   */
  async send(
    sender: string,
    recipients: OutgoingRecipient[],
    raw: Buffer,
    dsn?: MessageDsn,
  ): Promise<RecipientVerdict[]> {
    const addresses = recipients.map((recipient) => recipient.address);
    const rcpt = recipients[0]?.dsn;
    const envelope = {
      from: sender,
      to: addresses,
      // nodemailer adds these only when the server offers DSN; its absent values are left out.
      dsn: {
        ret: dsn?.ret ?? undefined,
        envid: dsn?.envid ?? undefined,
        notify: rcpt?.notify ?? undefined,
        orcpt: rcpt?.orcpt ?? undefined,
      },
    };
    try {
      const info = await this.step<{
        accepted: string[];
        rejectedErrors: NodemailerError[];
        response: string;
      }>((resolve, reject) =>
        this.connection.send(envelope, raw, (error, result) => {
          if (error) return reject(error);
          resolve({
            accepted: result!.accepted,
            rejectedErrors: result!.rejectedErrors ?? [],
            response: result!.response,
          });
        }),
      );
      return verdicts(addresses, info.accepted, info.rejectedErrors, info.response, this.offersDsn);
    } catch (error) {
      const cause = (this.failure ?? error) as NodemailerError;
      // Every recipient refused at RCPT: nodemailer reports it as one error with the details. The
      // server answered everything, so the connection may carry the next transaction (after RSET).
      if (cause.rejectedErrors && cause.rejectedErrors.length > 0 && cause.code === 'EENVELOPE') {
        return verdicts(addresses, [], cause.rejectedErrors, '', false);
      }
      this.failure ??= cause; // the connection is in an unknown state: not reused
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

/**
 * Sends one message: a transaction per group of recipients with the same RFC 3461 parameters (one
 * for all when the server does not offer DSN, since nothing is passed on then), RSET between.
 * Throws TransportError when the first transaction got no answer; a later one that fails leaves
 * its recipients (and those after) with that failure, as the earlier ones were answered.
 */
async function sendTransactions(session: SmtpSession, request: SendRequest): Promise<RecipientVerdict[]> {
  const results: RecipientVerdict[] = [];
  let waiting = request.recipients;
  while (waiting.length > 0) {
    const key = dsnKey(waiting[0]!);
    const group = session.offersDsn ? waiting.filter((recipient) => dsnKey(recipient) === key) : waiting;
    waiting = waiting.filter((recipient) => !group.includes(recipient));
    try {
      if (results.length > 0 && (!session.usable || !(await session.reset()))) {
        throw new TransportError('4.4.2 connection lost between transactions', false, false);
      }
      results.push(...(await session.send(request.sender, group, request.raw, request.dsn)));
    } catch (error) {
      if (results.length === 0 || !(error instanceof TransportError)) throw error;
      for (const { address } of [...group, ...waiting]) {
        results.push({ address, ok: false, permanent: error.permanent, reply: error.message });
      }
      break;
    }
  }
  return results;
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
      return await sendTransactions(session, request);
    } finally {
      session.close();
    }
  }
  const { session, reused } = await source.acquire(destination, helo);
  try {
    return await sendTransactions(session, request);
  } catch (error) {
    // A kept connection the server has closed meanwhile (idle timeout, 421): once more on a new one.
    if (!reused || !(error instanceof TransportError) || error.permanent) throw error;
    const fresh = await SmtpSession.open(destination, helo);
    try {
      return await sendTransactions(fresh, request);
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
  nextHopDsn: boolean,
): RecipientVerdict[] {
  const acceptedSet = new Set(accepted.map((address) => address.toLowerCase()));
  return recipients.map((address) => {
    if (acceptedSet.has(address.toLowerCase())) return { address, ok: true, reply: response, nextHopDsn };
    const error = rejected.find((item) => item.recipient?.toLowerCase() === address.toLowerCase());
    if (!error) return { address, ok: false, permanent: false, reply: 'no reply for this recipient' };
    return { address, ok: false, permanent: isPermanent(error), reply: replyOf(error) };
  });
}
