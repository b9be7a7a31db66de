/**
 * Message submission (RFC 6409) for mail clients: `submission.port` (587, STARTTLS) and
 * `submission.tls_port` (465, implicit TLS, RFC 8314), on smtp-server like SMTP-in.
 *
 * - AUTH PLAIN and LOGIN, offered only once TLS is on (or from loopback when
 *   `tls.plaintext_auth_on_loopback` allows), through the one login path of IMAP and POP3
 *   (server/auth/login-policy.ts: connection rules, lockout, throttling delay, app passwords);
 * - MAIL, RCPT and DATA only after AUTH; the envelope sender and the From header must be the
 *   user's own address or alias (553 5.7.1);
 * - per-user limits: messages per hour (451 4.7.1 at MAIL), recipients per message (452 4.5.3);
 * - local recipients are stored like LMTP deliveries; remote ones go to the outbound queue;
 * - BURL (RFC 4468, server/submission/burl/): a message made of URLAUTH URLs to the user's stored
 *   mail, advertised as `BURL imap` once authenticated, submitted by the same path as DATA.
 */
import type { SMTPServerAddress, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { SessionRegistry } from '../admin/sessions.ts';
import { checkPasswordLogin, plaintextAuthAllowedFrom } from '../auth/login-policy.ts';
import type { Guard } from '../auth/login-guard.ts';
import type { Gate } from '../net/connection-gate.ts';
import type { Config } from '../config/schema.ts';
import type { ConnectionHooks } from '../hooks/types.ts';
import type { Logger } from '../log.ts';
import type { RunningListener } from '../net/listener.ts';
import { ConnectionTracker, tlsOf, type TrackedSession } from '../smtp/connections.ts';
import { budgetOf, MallardSMTPServer } from '../smtp/engine.ts';
import { LocalDomains } from '../smtp/local-domains.ts';
import { reply, replyError, temporaryFailure, type Reply } from '../smtp/replies.ts';
import { MAX_ENVID, MAX_ORCPT, type DsnNotify, type RecipientDsn } from '../store/outbound.ts';
import type { Store, User } from '../store/types.ts';
import type { TlsProvider } from '../tls/context.ts';
import { addBurl } from './burl/command.ts';
import { deliverSubmission, type OutboundSink } from './deliver.ts';
import { HourlyLimit } from './rate-limit.ts';
import { routeRecipient, tooManyRecipients, type RoutedRecipient } from './recipients.ts';
import { checkFromHeader, senderNotOwned, sendableAddresses } from './sender-policy.ts';

export interface SubmissionServices {
  config: Config;
  store: Store;
  hooks: ConnectionHooks;
  guard: Guard;
  /** The connection gate (limits per address, pre-login deadline), shared with every listener. */
  gate?: Gate;
  logger: Logger;
  sessions?: SessionRegistry;
}

export interface SubmissionService {
  readonly listeners: RunningListener[];
  /** Messages accepted since start. */
  readonly submittedCount: number;
  stop(): Promise<void>;
}

interface SubmissionSession extends TrackedSession {
  user: User | null;
  /** What the user may send as, read at MAIL FROM. */
  owned: Set<string>;
  recipients: Map<string, RoutedRecipient & { dsn: Partial<RecipientDsn> }>;
}

/** RCPT TO's RFC 3461 parameters as smtp-server parsed them (absent when not given). */
function dsnOfRcpt(address: SMTPServerAddress): Partial<RecipientDsn> {
  const dsn = (address as SMTPServerAddress & { dsn?: { notify?: string[]; orcpt?: string } }).dsn;
  return { notify: dsn?.notify as DsnNotify[] | undefined, orcpt: dsn?.orcpt };
}

const SOCKET_TIMEOUT_MS = 5 * 60_000;
const CLOSE_TIMEOUT_MS = 10_000;

const authRequired = (): Reply => ({ code: 530, status: '5.7.0', text: 'Authentication required' });
const authFailed = (): Reply => ({ code: 535, status: '5.7.8', text: 'Authentication failed' });
const tooManyMessages = (perHour: number): Reply => ({
  code: 451,
  status: '4.7.1',
  text: `Sending limit reached (${perHour} messages per hour), try again later`,
});

export async function startSubmission(
  services: SubmissionServices,
  provider: TlsProvider,
  outbound: OutboundSink,
  /** 0 disables a listener; -1 lets the OS choose a free port (tests). */
  ports: { port: number; tlsPort: number },
): Promise<SubmissionService> {
  const { config } = services;
  const localDomains = new LocalDomains(services.store, config.hostname);
  const hourly = new HourlyLimit(config.submission.max_messages_per_hour);
  const servers: MallardSMTPServer[] = [];
  const listeners: RunningListener[] = [];
  let submitted = 0;

  function makeServer(implicitTls: boolean): MallardSMTPServer {
    const tracker = new ConnectionTracker<SubmissionSession>(
      {
        protocol: 'submission',
        hostname: config.hostname,
        hooks: services.hooks,
        logger: services.logger,
        registry: services.sessions,
        server: () => server,
      },
      (base) => ({ ...base, user: null, owned: new Set(), recipients: new Map() }),
    );
    const stateOf = (session: SMTPServerSession): SubmissionSession => tracker.stateOf(session);

    /** AUTH is hidden and refused until TLS is on, except from loopback when configured. */
    function authAllowed(session: SMTPServerSession): boolean {
      return session.secure || plaintextAuthAllowedFrom(config, session.remoteAddress);
    }

    /**
     * A whole message of the session's transaction, received by DATA or built by BURL: the From
     * check, then delivery and the queue (deliver.ts); the reply to send.
     */
    async function submitMessage(session: SMTPServerSession, message: Buffer): Promise<Reply> {
      const state = stateOf(session);
      const refused = checkFromHeader(message, state.owned);
      if (refused) {
        state.log.info({ user: state.user?.username, reply: refused.text }, 'message refused');
        return refused;
      }
      const transactionId = `${session.id}-${session.transaction}`;
      try {
        const answer = await deliverSubmission({
          store: services.store,
          outbound,
          config,
          log: state.log,
          user: state.user!,
          session,
          tls: tlsOf(session),
          sender: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          recipients: session.envelope.rcptTo.map((rcpt) => state.recipients.get(rcpt.address)!),
          message,
          transactionId,
        });
        if (answer.code < 400) {
          hourly.record(state.user!.id);
          submitted++;
        }
        return answer;
      } catch (error) {
        return temporaryFailure(state.log, error, { id: transactionId });
      } finally {
        state.handle?.update({ command: null });
      }
    }

    const options: SMTPServerOptions = {
      secure: implicitTls,
      name: config.hostname,
      banner: 'Mallard ESMTP submission',
      heloResponse: '%s Hello %s',
      size: config.limits.max_message_size,
      rejectOversized: true,
      hideENHANCEDSTATUSCODES: false,
      // RFC 3461: smtp-server checks RET, ENVID, NOTIFY and ORCPT (501 when malformed); they go to
      // the queue with the message and decide the reports (server/outbound/dsn.ts).
      hideDSN: false,
      hideREQUIRETLS: true,
      authMethods: ['PLAIN', 'LOGIN'],
      // Whether AUTH is allowed is decided per session (disabledCommands), see onConnect/onSecure.
      allowInsecureAuth: true,
      authOptional: false,
      disabledCommands: [],
      SNICallback: (_servername, callback) => callback(null, provider.current()),
      disableReverseLookup: true,
      logger: false,
      socketTimeout: SOCKET_TIMEOUT_MS,
      closeTimeout: CLOSE_TIMEOUT_MS,
      // Our own limit is checked at RCPT with a clearer reply; this only bounds memory.
      maxRecipients: Math.max(config.submission.max_recipients + 1, 100),

      onConnect(session, callback) {
        if (!authAllowed(session)) session.disabledCommands = ['AUTH'];
        tracker.onConnect(session, callback);
      },

      onSecure(_socket, session, callback) {
        tracker.onSecure(session);
        session.disabledCommands = [];
        callback();
      },

      onAuth(auth, session, callback) {
        const state = stateOf(session);
        state.handle?.command('AUTH');
        const done = (error: Error | null, user?: User) => {
          state.handle?.update({ command: null });
          if (error) return callback(error);
          callback(null, { user: user!.id });
        };
        // Passwords only over TLS (or loopback): AUTH is disabled otherwise, this is a second lock.
        if (!authAllowed(session)) {
          return done(
            replyError({ code: 538, status: '5.7.11', text: 'Encryption required for authentication' }),
          );
        }
        const username = auth.username ?? '';
        const password = auth.password ?? '';
        // RFC 4616: acting as another user (authzid other than authcid) is not offered.
        if (auth.authzid && auth.authcid && auth.authzid.toLowerCase() !== auth.authcid.toLowerCase()) {
          return done(replyError(authFailed()));
        }
        checkPasswordLogin(services, state.connection, username, password, state.log).then(
          (login) => {
            if (!login.ok) return done(replyError(authFailed()));
            state.user = login.auth.user;
            state.connection.user = login.auth.user.username;
            state.handle?.update({ user: { id: login.auth.user.id, username: login.auth.user.username } });
            state.log.info({ user: login.auth.user.username, method: auth.method }, 'authenticated');
            done(null, login.auth.user);
          },
          (error: unknown) => done(replyError(temporaryFailure(state.log, error, { auth: username }))),
        );
      },

      onMailFrom(address, session, callback) {
        const state = stateOf(session);
        const user = state.user;
        // smtp-server asks for AUTH only while AUTH is enabled; this covers the sessions where it is not.
        if (!user) return callback(replyError(authRequired()));
        state.recipients.clear();
        const envid = address.args ? (address.args as Record<string, unknown>).ENVID : undefined;
        if (typeof envid === 'string' && (envid.length > MAX_ENVID || /[^\x20-\x7e]/.test(envid))) {
          return callback(
            replyError(reply(501, '5.5.4', `ENVID is at most ${MAX_ENVID} printable characters`)),
          );
        }
        if (!hourly.allows(user.id)) {
          state.log.info({ user: user.username }, 'hourly sending limit reached');
          return callback(replyError(tooManyMessages(config.submission.max_messages_per_hour)));
        }
        sendableAddresses(services.store, user).then(
          (owned) => {
            state.owned = owned;
            if (!owned.has(address.address.toLowerCase())) {
              state.log.info({ user: user.username, from: address.address }, 'sender not owned');
              return callback(replyError(senderNotOwned(address.address)));
            }
            callback();
          },
          (error: unknown) =>
            callback(replyError(temporaryFailure(state.log, error, { from: address.address }))),
        );
      },

      onRcptTo(address, session, callback) {
        const state = stateOf(session);
        const orcpt = dsnOfRcpt(address).orcpt;
        if (typeof orcpt === 'string' && (orcpt.length > MAX_ORCPT || /[^\x20-\x7e]/.test(orcpt))) {
          return callback(
            replyError(reply(501, '5.5.4', `ORCPT is at most ${MAX_ORCPT} printable characters`)),
          );
        }
        if (state.recipients.size >= config.submission.max_recipients) {
          return callback(replyError(tooManyRecipients(config.submission.max_recipients)));
        }
        routeRecipient(services.store, localDomains, address.address).then(
          (routed) => {
            if ('code' in routed) return callback(replyError(routed));
            state.recipients.set(address.address, { ...routed, dsn: dsnOfRcpt(address) });
            callback();
          },
          (error: unknown) =>
            callback(
              replyError(temporaryFailure(state.log, error, { rcpt: address.address }, address.address)),
            ),
        );
      },

      onData(stream, session, callback) {
        const state = stateOf(session);
        state.handle?.command('DATA');
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => {
          if (!stream.sizeExceeded) chunks.push(chunk);
        });
        stream.on('error', (error) => state.log.debug({ err: error }, 'message not received in full'));
        stream.on('end', () => {
          if (stream.sizeExceeded) {
            chunks.length = 0;
            return callback(new Error('message too big')); // smtp-server replies 552 5.3.4
          }
          submitMessage(session, Buffer.concat(chunks)).then((answer) => {
            if (answer.code >= 400) return callback(replyError(answer));
            callback(null, `${answer.status} ${answer.text}`);
          }, callback);
        });
      },

      onClose(session) {
        tracker.onClose(session);
      },
    };
    const server = new MallardSMTPServer(
      options,
      provider,
      'smtp',
      services.gate,
      config.hostname,
      budgetOf(config, config.inbound.max_errors),
    );
    server.on('error', (error) =>
      services.logger.debug({ err: error, protocol: 'submission' }, 'connection error'),
    );
    server.extendConnection = (connection) =>
      addBurl(connection, {
        store: services.store,
        hostname: config.hostname,
        maxMessageSize: config.limits.max_message_size,
        userOf: (session) => stateOf(session).user,
        logOf: (session) => stateOf(session).log,
        submit: submitMessage,
      });
    return server;
  }

  async function listen(port: number, implicitTls: boolean): Promise<void> {
    if (port === 0) return;
    const server = makeServer(implicitTls);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(Math.max(port, 0), config.submission.host, () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    servers.push(server);
    const actual = (server.server.address() as import('node:net').AddressInfo).port;
    listeners.push({
      port: actual,
      host: config.submission.host,
      implicitTls,
      close: () => closeServer(server),
    });
  }

  const closing = new Map<MallardSMTPServer, Promise<void>>();
  function closeServer(server: MallardSMTPServer): Promise<void> {
    let promise = closing.get(server);
    if (!promise) {
      promise = new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const connection of server.connections) {
          const envelope = connection.session.envelope as SMTPServerSession['envelope'] | undefined;
          if (!envelope?.mailFrom) connection.send(421, `${config.hostname} Service shutting down`);
        }
      });
      closing.set(server, promise);
    }
    return promise;
  }

  try {
    await listen(ports.port, false);
    await listen(ports.tlsPort, true);
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
  return {
    listeners,
    get submittedCount() {
      return submitted;
    },
    stop: () => Promise.all(servers.map(closeServer)).then(() => undefined),
  };
}
