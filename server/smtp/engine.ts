/**
 * The mail-receiving engine shared by LMTP and SMTP, on top of smtp-server: the listener, TLS from
 * the TlsProvider (read per connection, so a new certificate applies without a restart), the
 * connection hooks, recipient checks at RCPT, reading the message, and delivery into the store.
 * Every recipient's copy gets its trace header fields (Return-Path, Delivered-To, Received: see
 * server/delivery/trace.ts). What differs between the protocols (an unknown recipient, one reply
 * or one per recipient) comes from the `MailProtocol` each passes in.
 */
import { isLoopbackAddress } from '../auth/login-policy.ts';
import type net from 'node:net';
import type tls from 'node:tls';
import {
  SMTPServer,
  type SMTPServerDataResult,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server';
import type { SessionHandle, SessionRegistry } from '../admin/sessions.ts';
import type { Config } from '../config/schema.ts';
import { ReverseNames } from '../dns/resolver.ts';
import { adminScripts, deliverWithSieve, SieveRejection } from '../delivery/sieve.ts';
import { withTrace, type NetworkOrigin } from '../delivery/trace.ts';
import type { ConnectionHooks, ConnectionSession } from '../hooks/types.ts';
import type { InboundCheck } from '../inbound/types.ts';
import type { GreylistQuery } from '../spam/greylist.ts';
import type { Logger } from '../log.ts';
import type { Gate, GateTicket } from '../net/connection-gate.ts';
import type { RunningListener } from '../net/listener.ts';
import type { Store } from '../store/types.ts';
import type { TlsProvider } from '../tls/context.ts';
import { applyBudget, type ConnectionBudget } from './budget.ts';
import { ConnectionTracker, tlsOf } from './connections.ts';
import { countDelivery } from '../delivery/history.ts';
import { checkHeloSyntax } from './helo.ts';
import { forbidPipelinedData } from './pipelining.ts';
import {
  bareLineFeed,
  classifyDeliveryError,
  mailboxDisabled,
  mailboxFull,
  reply,
  replyError,
  temporaryFailure,
  type RecipientOutcome,
  type Reply,
} from './replies.ts';

/** A Sieve reason fit for one reply line: line breaks folded, bounded, printable ASCII. */
function oneLineReason(reason: string): string {
  const text = reason
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return (text === '' ? "Rejected by the recipient's filter" : text).slice(0, 400);
}

/** What the delivery services need (the services object of server/main.ts has this shape). */
export interface DeliveryServices {
  config: Config;
  store: Store;
  hooks: ConnectionHooks;
  logger: Logger;
  /** The admin API's registry of live sessions (absent: nothing is reported). */
  sessions?: SessionRegistry;
  /** Connection limits and the pre-login deadline, shared by every protocol (absent: none). */
  gate?: Gate;
  /** What SMTP-in runs on each message at the end of DATA (server/inbound/), in order (absent: none). */
  inboundChecks?: readonly InboundCheck[];
  /** SMTP-in's greylisting at RCPT (server/spam/greylist.ts): when to retry, or null (absent: off). */
  greylist?: (query: GreylistQuery) => Promise<Date | null>;
}

/** Per connection: the hooks' view of it and its logger. */
export interface MailSession {
  readonly connection: ConnectionSession;
  readonly log: Logger;
  /** This session in the admin API's registry, once the connection rules let it in. */
  handle?: SessionHandle;
}

/** A recipient accepted at RCPT, with the user it resolved to then (null if unknown). */
export interface AcceptedRecipient {
  address: string;
  userId: string | null;
}

export interface DeliveryRequest {
  session: SMTPServerSession;
  state: MailSession;
  /** The message as received (dot-unstuffed, otherwise untouched). */
  message: Buffer;
  recipients: AcceptedRecipient[];
  /** Names this transaction in logs and in the Received header. */
  transactionId: string;
  /**
   * Stores the message once per distinct user among the recipients (two addresses of one user give
   * one copy, traced for the first of them) and returns one outcome per recipient, in order.
   * `filing` (SMTP's inbound verdict) may replace the message, add header fields and send it to Junk.
   */
  deliverEach(filing?: Filing): Promise<RecipientOutcome[]>;
}

/** How the copies are filed, from the inbound verdict (server/inbound/): absent, as received into INBOX. */
export interface Filing {
  /** The message to store instead of the one received (e.g. forged Authentication-Results removed). */
  message?: Buffer;
  /** Header fields (each ending with CRLF) to put below the trace fields Return-Path and Delivered-To. */
  headers?: string;
  /** Into each recipient's Junk mailbox instead of INBOX (a set: only these recipients' copies). */
  junk?: boolean | ReadonlySet<string>;
  /** Why (for the log and the admin API's delivery event). */
  reasons?: string[];
}

export interface MailProtocol {
  protocol: 'lmtp' | 'smtp';
  /** The reply for a recipient that resolves to nobody. */
  unknownRecipient(address: string, state: MailSession): Promise<Reply>;
  /**
   * A last word on a recipient that resolved to a user with room for the message (SMTP's
   * greylisting): null admits it, a reply refuses it.
   */
  admitRecipient?(
    recipient: { address: string; userId: string },
    session: SMTPServerSession,
    state: MailSession,
  ): Promise<Reply | null>;
  /** Delivers a message: what onData's callback gets, or a rejection with a reply error. */
  deliver(request: DeliveryRequest): Promise<string | SMTPServerDataResult[]>;
}

export interface MailService {
  readonly listeners: RunningListener[];
  /** Messages stored since start (one per recipient mailbox), for the admin API. */
  readonly deliveredCount: number;
  stop(): Promise<void>;
}

/** RFC 5321 4.5.3.2.7: a server should wait at least 5 minutes for the next command. */
const SOCKET_TIMEOUT_MS = 5 * 60_000;
/** How long stop() lets a transaction in progress finish before closing it. */
const CLOSE_TIMEOUT_MS = 10_000;

export type SmtpConnection = SMTPServer['connections'] extends Set<infer C> ? C : never;

/** A reply text that already carries its enhanced status code: "5.1.1 <a@b>: User unknown". */
const OWN_STATUS = /^([245])\.\d{1,3}\.\d{1,3}(?: |$)/;

/**
 * smtp-server derives the enhanced status code of an error reply from its basic code alone (550 is
 * always 5.1.1), but relaying denied is 550 5.7.1 and a disabled mailbox 550 5.2.1. Replies whose
 * text starts with an enhanced code of the same class are sent with that code instead.
 */
function sendOwnStatusCodes(connection: SmtpConnection): void {
  const send = connection.send.bind(connection);
  connection.send = (code, data, context) => {
    const own = typeof data === 'string' ? OWN_STATUS.exec(data) : null;
    send(code, data, own && own[1] === String(code)[0] ? false : context);
  };
}

/** The TLS context per server name (SNI), from the provider at each connection, so changes apply at once. */
class LiveSecureContexts extends Map<string, tls.SecureContext> {
  constructor(private readonly provider: TlsProvider) {
    super();
  }

  override get(servername: string): tls.SecureContext {
    return this.provider.contextFor(servername);
  }
}

/**
 * Whether a connection skips the early-talker delay: every LMTP client (an MTA on this machine or
 * the local network hands mail over, never a stranger), and SMTP clients on loopback (a local MTA,
 * fetchmail, a script). Strangers on port 25 keep it: spam software that talks before the
 * greeting gives itself away there.
 */
export function greetsAtOnce(protocol: MailProtocol['protocol'], remoteAddress: string): boolean {
  return protocol === 'lmtp' || isLoopbackAddress(remoteAddress);
}

/**
 * smtp-server waits a fixed 100 ms before every greeting (a timer in its init(), with no option to
 * turn it off) and answers anything the client sends before the greeting with "421 You talk too
 * soon". A trusted peer (see greetsAtOnce) is started at once instead, and a command it pipelines
 * before the greeting waits for the greeting rather than being refused. The library's timer still
 * fires 100 ms later; by then connectionReady has run and its second call does nothing.
 */
function startAtOnce(connection: SmtpConnection): void {
  // With implicit TLS the connection is ready only after the handshake (not used here).
  if (connection.needsUpgrade) return;
  const onCommand = connection._onCommand.bind(connection);
  let held: { command: Buffer; callback?: () => void } | null = null;
  connection._onCommand = (command, callback) => {
    if (connection._ready) return onCommand(command, callback);
    // The parser reads the next line only once `callback` runs: holding one line holds them all.
    held = { command, callback };
  };
  const connectionReady = connection.connectionReady.bind(connection);
  let started = false;
  connection.connectionReady = (next) => {
    if (started) return;
    started = true;
    // This runs once the greeting went out (never when the connection rules refuse the client).
    connectionReady(() => {
      next?.();
      const early = held;
      held = null;
      if (early) onCommand(early.command, early.callback);
    });
  };
  connection.connectionReady();
}

export class MallardSMTPServer extends SMTPServer {
  private readonly patched = new WeakSet<SmtpConnection>();
  /** The TCP socket of each connection by id, for its byte counts (the admin API's sessions). */
  readonly sockets = new Map<string, net.Socket>();
  /** The connection gate's ticket of each connection by id (its first MAIL FROM counts as a login). */
  readonly tickets = new Map<string, GateTicket>();
  /** Commands of a protocol's own (submission's BURL), put on each connection before it greets. */
  extendConnection: ((connection: SmtpConnection) => void) | null = null;

  constructor(
    options: SMTPServerOptions,
    provider: TlsProvider,
    private readonly protocol: MailProtocol['protocol'],
    private readonly gate: Gate | undefined,
    private readonly hostname: string,
    private readonly budget: ConnectionBudget,
    /** Port 25: HELO/EHLO syntax and DATA pipelining are checked (strangers, not our users or MTA). */
    private readonly strict = false,
  ) {
    super(options);
    this.secureContext = new LiveSecureContexts(provider);
  }

  override connect(...args: Parameters<SMTPServer['connect']>): void {
    const socket = args[0];
    if (!this.gate) return this.connectAdmitted(args, null);
    void Promise.resolve(this.gate.admit(socket)).then((ticket) => {
      if (typeof ticket === 'string') socket.end(`421 4.7.0 ${this.hostname} ${ticket}\r\n`);
      else if (!socket.destroyed) this.connectAdmitted(args, ticket);
    });
  }

  private connectAdmitted(args: Parameters<SMTPServer['connect']>, ticket: GateTicket | null): void {
    super.connect(...args);
    // The connection just added is the last in the set; patch it before it sends anything.
    let newest: SmtpConnection | undefined;
    for (const connection of this.connections) newest = connection;
    if (newest && !this.patched.has(newest)) {
      this.patched.add(newest);
      sendOwnStatusCodes(newest);
      applyBudget(newest, this.budget, this.hostname);
      this.extendConnection?.(newest);
      if (this.strict) {
        checkHeloSyntax(newest);
        forbidPipelinedData(newest, this.hostname);
      }
      this.sockets.set(newest.id, args[0]);
      if (greetsAtOnce(this.protocol, newest.remoteAddress)) startAtOnce(newest);
      if (ticket) {
        this.tickets.set(newest.id, ticket);
        goodbyeOnGateEnd(newest, ticket, this.hostname);
      }
    }
  }
}

/** The time and error budget of each connection (see budget.ts), from `limits`. */
export function budgetOf(config: Config, maxErrors: number): ConnectionBudget {
  // An MTA handing mail over by LMTP (maxErrors infinite) is not held to the volume limits either.
  const volume = (limit: number) => (Number.isFinite(maxErrors) ? limit : Number.POSITIVE_INFINITY);
  return {
    commandMs: config.limits.command_timeout * 1000,
    transactionMs: config.limits.transaction_timeout * 1000,
    minDataRate: config.limits.min_data_rate,
    maxErrors,
    maxRecipients: volume(config.inbound.max_connection_recipients),
    maxCommands: volume(config.inbound.max_commands),
  };
}

/** Ends a connection that the gate ends (no MAIL FROM before the deadline, or evicted) with a 421. */
function goodbyeOnGateEnd(connection: SmtpConnection, ticket: GateTicket, hostname: string): void {
  ticket.onEnd((reason) => {
    const text = reason === 'prelogin-timeout' ? 'Timeout waiting for MAIL FROM' : 'Too many connections';
    connection.send(421, `${hostname} ${text}, closing connection`);
    connection.close();
  });
}

/**
 * Reverse DNS for the Received header (smtp-server asks before the greeting), on the configured
 * DNS servers with a short timeout, forward-confirmed; skipped for loopback clients (nothing to
 * learn there).
 */
function reverseResolver(names: ReverseNames) {
  return {
    reverse(ip: string, callback: (error: Error | null, hostnames?: string[]) => void): void {
      if (isLoopbackAddress(ip)) return callback(null, []);
      void names.nameOf(ip).then((name) => callback(null, name ? [name] : []));
    },
  };
}

/** The peer of a session, for the Received header. */
export function originOf(session: SMTPServerSession): NetworkOrigin {
  return {
    kind: 'network',
    helo: session.hostNameAppearsAs || '',
    // smtp-server puts the address literal here when the reverse lookup found no name.
    reverseName: session.clientHostname.startsWith('[') ? '' : session.clientHostname,
    remoteAddress: session.remoteAddress,
    protocol: session.transmissionType,
    tls: tlsOf(session),
  };
}

/** Whether some LF in the message is not the end of a CRLF. */
export function hasBareLineFeed(message: Buffer): boolean {
  for (let at = message.indexOf(0x0a); at !== -1; at = message.indexOf(0x0a, at + 1)) {
    if (at === 0 || message[at - 1] !== 0x0d) return true;
  }
  return false;
}

function declaredSize(session: SMTPServerSession): number {
  const from = session.envelope.mailFrom;
  const size = from && from.args ? from.args.SIZE : undefined;
  return typeof size === 'string' ? Number(size) || 0 : 0;
}

export async function startMailService(
  services: DeliveryServices,
  provider: TlsProvider,
  protocol: MailProtocol,
  /** `port` 0 disables the listener; -1 lets the OS choose a free port (tests). */
  listen: { host: string; port: number },
): Promise<MailService> {
  const { config, store, logger } = services;
  const accepted = new WeakMap<object, string>();
  let delivered = 0;

  if (listen.port === 0) {
    return {
      listeners: [],
      get deliveredCount() {
        return delivered;
      },
      stop: () => Promise.resolve(),
    };
  }

  const tracker = new ConnectionTracker<MailSession>(
    {
      protocol: protocol.protocol,
      hostname: config.hostname,
      hooks: services.hooks,
      logger,
      registry: services.sessions,
      server: () => server,
    },
    (base) => base,
  );
  const stateOf = (session: SMTPServerSession): MailSession => tracker.stateOf(session);

  /** The user id a recipient goes to, or the reply refusing it. */
  async function checkRecipient(
    address: string,
    session: SMTPServerSession,
    state: MailSession,
  ): Promise<string | Reply> {
    const declared = declaredSize(session);
    try {
      const user = await store.resolveRecipient(address);
      if (!user) return await protocol.unknownRecipient(address, state);
      if (user.disabled) return mailboxDisabled(address);
      // Full already, or too full for the size the client declared (MAIL FROM SIZE=).
      if (user.quotaBytes > 0 && user.usedBytes + Math.max(declared, 1) > user.quotaBytes) {
        return mailboxFull(address);
      }
      return (await protocol.admitRecipient?.({ address, userId: user.id }, session, state)) ?? user.id;
    } catch (error) {
      return temporaryFailure(state.log, error, { rcpt: address }, address);
    }
  }

  async function deliverEach(
    received: Buffer,
    session: SMTPServerSession,
    recipients: AcceptedRecipient[],
    state: MailSession,
    transactionId: string,
    filing: Filing = {},
  ): Promise<RecipientOutcome[]> {
    const message = filing.message ?? received;
    const junkFor = (address: string) =>
      typeof filing.junk === 'boolean' || filing.junk === undefined
        ? filing.junk === true
        : filing.junk.has(address);
    const origin = originOf(session);
    const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const groups = new Map<string, number[]>();
    recipients.forEach((recipient, index) => {
      const key = recipient.userId !== null ? `user:${recipient.userId}` : `address:${recipient.address}`;
      const group = groups.get(key);
      if (group) group.push(index);
      else groups.set(key, [index]);
    });
    const outcomes: RecipientOutcome[] = [];
    for (const indexes of groups.values()) {
      const first = recipients[indexes[0]!]!.address;
      const junk = junkFor(first);
      const raw = withTrace(message, {
        origin,
        sender,
        recipient: first,
        hostname: config.hostname,
        id: transactionId,
        utf8: session.envelope.smtpUtf8 === true,
        date: new Date(),
        headers: filing.headers,
      });
      try {
        const result = await deliverWithSieve({
          store,
          log: state.log,
          hostname: config.hostname,
          recipient: first,
          sender,
          raw,
          junk,
          // LMTP answers per recipient; SMTP can refuse a message that has one recipient only.
          canRefuse: protocol.protocol === 'lmtp' || groups.size === 1,
          before: adminScripts(config.inbound.sieve_before, state.log),
        });
        const folder = result.mailboxes.join(', ') || '(none)';
        delivered++;
        await countDelivery(store, 'local', state.log);
        state.handle?.delivered({
          recipient: first,
          userId: result.userId,
          uid: result.uid,
          size: raw.length,
          mailbox: folder,
          reasons: filing.reasons ?? [],
        });
        state.log.info(
          {
            id: transactionId,
            rcpt: first,
            user: result.userId,
            uid: result.uid,
            size: raw.length,
            mailbox: folder,
            reasons: filing.reasons,
          },
          'message delivered',
        );
        for (const index of indexes) {
          outcomes[index] = { ok: true, address: recipients[index]!.address, uid: result.uid };
        }
      } catch (error) {
        if (error instanceof SieveRejection) {
          const refusal = reply(550, '5.7.1', oneLineReason(error.reason));
          state.log.info(
            { id: transactionId, rcpt: first, reply: refusal.status },
            'message rejected by Sieve',
          );
          for (const index of indexes) {
            const address = recipients[index]!.address;
            outcomes[index] = { ok: false, address, temporary: false, reply: refusal };
          }
          continue;
        }
        const failure = classifyDeliveryError(state.log, error, { id: transactionId, rcpt: first });
        if (!failure.temporary) {
          state.log.info(
            { id: transactionId, rcpt: first, reply: failure.reply(first).status },
            'delivery refused',
          );
        }
        for (const index of indexes) {
          const address = recipients[index]!.address;
          outcomes[index] = {
            ok: false,
            address,
            temporary: failure.temporary,
            reply: failure.reply(address),
          };
        }
      }
    }
    return outcomes;
  }

  const options: SMTPServerOptions = {
    lmtp: protocol.protocol === 'lmtp',
    name: config.hostname,
    banner: 'Mallard',
    heloResponse: '%s Hello %s',
    size: config.limits.max_message_size,
    rejectOversized: true,
    hideENHANCEDSTATUSCODES: false,
    // Not a submission server: no AUTH at all.
    authOptional: true,
    disabledCommands: ['AUTH'],
    // STARTTLS with the provider's certificate (see LiveSecureContexts for clients without SNI).
    SNICallback: (_servername, callback) => callback(null, provider.current()),
    disableReverseLookup: protocol.protocol === 'lmtp',
    resolver: reverseResolver(new ReverseNames(config.dns.servers)),
    logger: false,
    socketTimeout: SOCKET_TIMEOUT_MS,
    closeTimeout: CLOSE_TIMEOUT_MS,
    // RFC 5321 asks for at least 100; more in one transaction are refused with 452 4.5.3.
    maxRecipients: config.inbound.max_recipients,

    onConnect(session, callback) {
      tracker.onConnect(session, callback);
    },

    onSecure(_socket, session, callback) {
      tracker.onSecure(session);
      callback();
    },

    onMailFrom(_address, session, callback) {
      // A transaction began: this client is at work, not waiting to be let in.
      server.tickets.get(session.id)?.loggedIn();
      callback();
    },

    onRcptTo(address, session, callback) {
      const state = stateOf(session);
      state.handle?.command('RCPT');
      checkRecipient(address.address, session, state).then((result) => {
        state.handle?.update({ command: null });
        if (typeof result === 'string') {
          accepted.set(address, result);
          return callback();
        }
        state.log.info(
          { rcpt: address.address, reply: `${result.code} ${result.status}` },
          'recipient refused',
        );
        callback(replyError(result));
      }, callback);
    },

    onData(stream, session, callback) {
      const state = stateOf(session);
      state.handle?.command('DATA');
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        // Past the limit the reply is 552 (rejectOversized); stop keeping the bytes.
        if (stream.sizeExceeded) {
          chunks.length = 0;
          size = 0;
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      // The client went away mid-message: nothing to reply to, nothing is stored.
      stream.on('error', (error) => state.log.debug({ err: error }, 'message not received in full'));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          state.log.info({ size: stream.byteLength }, 'message too big');
          return callback(new Error('message too big')); // smtp-server replies 552 5.3.4 itself
        }
        const message = Buffer.concat(chunks, size);
        const transactionId = `${session.id}-${session.transaction}`;
        // The store makes bare LF line ends CRLF ("normalize"); "refuse" sends them back instead, to
        // other servers on port 25 only: a local MTA handing over by LMTP passes on what local
        // programs (cron, scripts) wrote, which nobody could resend otherwise.
        if (protocol.protocol === 'smtp' && config.inbound.bare_lf === 'refuse' && hasBareLineFeed(message)) {
          state.log.info({ id: transactionId, reply: bareLineFeed.status }, 'message with bare LF refused');
          return callback(replyError(bareLineFeed));
        }
        const recipients = session.envelope.rcptTo.map((rcpt) => ({
          address: rcpt.address,
          userId: accepted.get(rcpt) ?? null,
        }));
        protocol
          .deliver({
            session,
            state,
            message,
            recipients,
            transactionId,
            deliverEach: (filing) => deliverEach(message, session, recipients, state, transactionId, filing),
          })
          .finally(() => state.handle?.update({ command: null }))
          .then(
            (result) => callback(null, result),
            (error: unknown) => {
              if (error instanceof Error && 'responseCode' in error) return callback(error);
              callback(replyError(temporaryFailure(state.log, error, { id: transactionId })));
            },
          );
      });
    },

    onClose(session) {
      tracker.onClose(session);
    },
  };

  const server = new MallardSMTPServer(
    options,
    provider,
    protocol.protocol,
    services.gate,
    config.hostname,
    // An MTA handing mail over by LMTP is refused many recipients in a row for good reasons.
    budgetOf(config, protocol.protocol === 'lmtp' ? Number.POSITIVE_INFINITY : config.inbound.max_errors),
    protocol.protocol === 'smtp',
  );
  server.on('error', (error) =>
    logger.debug({ err: error, protocol: protocol.protocol }, 'connection error'),
  );
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(Math.max(listen.port, 0), listen.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as import('node:net').AddressInfo).port;
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Idle connections are told right away; one in a transaction may finish it (CLOSE_TIMEOUT_MS).
      for (const connection of server.connections) {
        const envelope = connection.session.envelope as SMTPServerSession['envelope'] | undefined;
        if (!envelope?.mailFrom) connection.send(421, `${config.hostname} Service shutting down`);
      }
    }));
  return {
    listeners: [{ port, host: listen.host, implicitTls: false, close }],
    get deliveredCount() {
      return delivered;
    },
    stop: close,
  };
}
