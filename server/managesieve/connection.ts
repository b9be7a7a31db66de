/**
 * One ManageSieve connection: bytes in → framer (lines and literals, limits) → parser → dispatch
 * (state check) → command → response out. Commands run one at a time in the order received.
 *
 * Limits: a command line is at most MAX_LINE bytes; a literal at most MAX_LITERAL_BEFORE_LOGIN
 * before login (enough for any SASL answer: an unauthenticated client cannot make the server hold
 * a large upload) and `managesieve.max_script_size` after it. A larger literal before login ends
 * the connection; after login its octets are skipped and the command gets NO (QUOTA/MAXSIZE).
 * The idle timer runs only while the session waits for the client and restarts with every byte.
 */
import crypto from 'node:crypto';
import type net from 'node:net';
import { tlsDetails, type SessionHandle } from '../admin/sessions.ts';
import { plaintextAuthAllowedFrom, tlsRequiredForPasswords } from '../auth/login-policy.ts';
import { type ConnectionSession, connectionSessionOf } from '../hooks/types.ts';
import type { Logger } from '../log.ts';
import type { GateTicket } from '../net/connection-gate.ts';
import { upgradeToTls } from '../net/listener.ts';
import type { User } from '../store/types.ts';
import type { TlsProvider } from '../tls/context.ts';
import { capabilityLines } from './capabilities.ts';
import type {
  ManageSieveContext,
  ManageSieveServices,
  ManageSieveSession,
  Reply,
  SessionState,
} from './context.ts';
import { responseLine } from './encoder.ts';
import { err, mapError, type ManageSieveCode } from './errors.ts';
import { CommandFramer, type FramerItem } from './framer.ts';
import { parseCommand, parseSaslResponse, type ManageSieveCommand } from './parser.ts';
import { COMMANDS } from './registry.ts';
import { writeReply } from '../net/write-reply.ts';

/** Longest command line without its CRLF (literals do not count). */
export const MAX_LINE = 8 * 1024;
/** Largest literal an unauthenticated client may send (a SASL answer). */
export const MAX_LITERAL_BEFORE_LOGIN = 16 * 1024;
/** Input waiting to be read before the socket stops reading. */
const MAX_BUFFERED_INPUT = 64 * 1024;
/** Failed commands in a row (unknown, malformed, over-long) before the connection is closed. */
const MAX_INVALID_COMMANDS = 10;
/** How long a closing connection may take to send its last bytes. */
const CLOSE_GRACE_MS = 2000;

/** What every connection of one ManageSieve service shares. */
export interface ManageSieveRuntime {
  services: ManageSieveServices;
  tls: TlsProvider;
  /** Idle timeout in milliseconds (from `managesieve.idle_timeout`; tests use a shorter one). */
  idleTimeoutMs: number;
}

export class ManageSieveConnection implements ManageSieveSession {
  readonly id = crypto.randomBytes(8).toString('hex');
  state: SessionState = 'unauthenticated';
  user: User | null = null;
  secure: boolean;
  readonly loopback: boolean;
  readonly connection: ConnectionSession;
  readonly log: Logger;

  private socket: net.Socket;
  private readonly framer = new CommandFramer();
  private readonly context: ManageSieveContext;
  private readonly services: ManageSieveServices;
  private dataWaiter: (() => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private waiting = false;
  private busy = false;
  private closed = false;
  private closing = false;
  private closeAfterReply = false;
  private paused = false;
  private invalidCommands = 0;
  private registration: SessionHandle | null = null;
  private markFinished: () => void = () => {};
  /** Resolves once the connection is gone (after onClose ran). */
  readonly finished = new Promise<void>((resolve) => (this.markFinished = resolve));
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly onClose = () => this.finish();

  constructor(
    socket: net.Socket,
    private readonly runtime: ManageSieveRuntime,
    /** The connection gate's ticket: the pre-login deadline and eviction end the session through it. */
    private readonly ticket: GateTicket | null = null,
  ) {
    this.socket = socket;
    this.secure = false;
    this.services = runtime.services;
    const remoteAddress = socket.remoteAddress ?? '';
    this.loopback = plaintextAuthAllowedFrom(this.services.config, remoteAddress);
    this.connection = connectionSessionOf(this.id, 'managesieve', socket, false);
    this.log = this.services.logger.child({
      session: this.id,
      protocol: 'managesieve',
      remote: remoteAddress,
    });
    this.context = this.makeContext();
    ticket?.onEnd((reason) => {
      this.log.warn({ reason }, 'ended by the connection limits');
      void this.shutdown(
        reason === 'prelogin-timeout'
          ? 'Login timeout, closing connection'
          : 'Too many connections waiting to log in, closing the oldest',
      );
    });
  }

  /** Runs the connection to its end. */
  async run(): Promise<void> {
    this.attachSocket(this.socket);
    try {
      const verdict = await this.services.hooks.onConnect(this.connection);
      if (!verdict.allow) {
        this.log.warn({ reason: verdict.reason }, 'connection refused');
        await this.write(
          responseLine('BYE', verdict.reason, verdict.temporary ? { code: 'TRYLATER' } : null),
          true,
        );
        this.closeSocket();
        return;
      }
      this.log.debug('connection opened');
      this.register();
      await this.write(`${this.capabilities()}${responseLine('OK', 'Mallard ManageSieve ready')}`, true);
      await this.commandLoop();
    } catch (error) {
      this.log.warn({ err: error }, 'connection failed');
      this.closeSocket();
    } finally {
      if (this.socket.destroyed) this.finish();
    }
  }

  // --- input ---

  private attachSocket(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', (error) => this.log.debug({ err: error }, 'socket error'));
  }

  private receive(chunk: Buffer): void {
    this.registration?.addBytes(chunk.length, 0);
    this.framer.push(chunk);
    if (this.framer.buffered > MAX_BUFFERED_INPUT + this.maxLiteral() && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    if (this.waiting) this.startIdleTimer();
    const waiter = this.dataWaiter;
    this.dataWaiter = null;
    waiter?.();
  }

  private maxLiteral(): number {
    return this.user ? this.services.config.managesieve.max_script_size : MAX_LITERAL_BEFORE_LOGIN;
  }

  /** The next command or limit report, waiting (idle timer running) as needed; null when gone. */
  private async nextItem(): Promise<FramerItem | null> {
    for (;;) {
      if (this.closed || this.closing) return null;
      const item = this.framer.next({ maxLine: MAX_LINE, maxLiteral: this.maxLiteral() });
      if (item) {
        this.waiting = false;
        this.stopIdleTimer();
        return item;
      }
      if (this.paused) {
        this.paused = false;
        this.socket.resume();
      }
      if (!this.waiting) {
        this.waiting = true;
        this.startIdleTimer();
      }
      await new Promise<void>((resolve) => (this.dataWaiter = resolve));
    }
  }

  private async commandLoop(): Promise<void> {
    while (!this.closed && !this.closing) {
      const item = await this.nextItem();
      if (!item) return;
      this.busy = true;
      try {
        await this.handle(item);
      } finally {
        this.busy = false;
        this.registration?.update({
          command: null,
          user: this.user ? { id: this.user.id, username: this.user.username } : null,
        });
      }
      if (this.closeAfterReply) this.closeSocket();
    }
  }

  private async handle(item: FramerItem): Promise<void> {
    if (item.type === 'too-long') return this.invalid('Command line too long');
    if (item.type === 'literal-too-big') {
      if (!this.user) {
        this.log.info({ size: item.size }, 'literal too large before login');
        await this.write(responseLine('BYE', 'Literal too large before login'), true);
        this.closeSocket();
        return;
      }
      this.framer.skipLiteral(item.size);
      const limit = this.services.config.managesieve.max_script_size;
      await this.write(
        responseLine('NO', `The script is larger than ${limit} bytes`, { code: 'QUOTA/MAXSIZE' }),
        true,
      );
      return;
    }
    let command;
    try {
      command = parseCommand(item);
    } catch (error) {
      return this.invalid(mapError(error).text);
    }
    if (command) await this.execute(command);
  }

  // --- dispatch ---

  private async execute(command: ManageSieveCommand): Promise<void> {
    const name = command.name;
    const handler = COMMANDS[name];
    if (!handler)
      return this.invalid(/^[A-Z]{1,20}$/.test(name) ? `Unknown command ${name}` : 'Unknown command');
    if (!handler.states.includes(this.state)) {
      const text =
        this.state === 'unauthenticated'
          ? `${name} needs AUTHENTICATE first`
          : `${name} is not allowed after login`;
      return this.invalid(text);
    }
    this.log.debug({ command: name }, 'command');
    this.registration?.command(name);
    let reply: Reply;
    try {
      reply = await handler.run(this.context, command);
    } catch (error) {
      const mapped = mapError(error);
      if (mapped.reference)
        this.log.error({ err: error, reference: mapped.reference, command: name }, 'command failed');
      if (mapped.fatal) {
        await this.write(responseLine('BYE', mapped.text, codeOf(mapped.code)), true);
        this.closeSocket();
        return;
      }
      await this.write(responseLine('NO', mapped.text, codeOf(mapped.code)), true);
      return;
    }
    this.invalidCommands = 0;
    await this.write(
      `${reply.body ?? ''}${responseLine('OK', reply.text ?? null, reply.code ?? null)}`,
      true,
    );
    if (reply.close) this.closeSocket();
    else await reply.after?.();
  }

  /** Answers a command that cannot run; too many in a row end the connection. */
  private async invalid(text: string): Promise<void> {
    if (++this.invalidCommands >= MAX_INVALID_COMMANDS) {
      this.log.info('too many invalid commands');
      await this.write(responseLine('BYE', 'Too many invalid commands, closing connection'), true);
      this.closeSocket();
      return;
    }
    await this.write(responseLine('NO', text), true);
  }

  // --- output ---

  /**
   * Sends bytes. Resolves when the socket can take more (backpressure); with `last`, only once
   * these bytes have left the process (the end of a reply: the idle timer may start then).
   */
  private write(data: string, last = false): Promise<void> {
    if (this.closed || this.socket.destroyed) return Promise.resolve();
    this.registration?.addBytes(0, Buffer.byteLength(data));
    return writeReply(this.socket, data, last);
  }

  /** Ends the connection once the bytes written so far are sent. */
  private closeSocket(): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    this.stopIdleTimer();
    this.dataWaiter?.();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Ends the session from outside (shutdown, the admin API): BYE after the reply in progress. */
  async shutdown(text = 'Server shutting down'): Promise<void> {
    if (this.closed || this.closing) return;
    if (this.busy) {
      this.closeAfterReply = true;
      setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
      return;
    }
    await this.write(responseLine('BYE', text, { code: 'TRYLATER' }), true);
    this.closeSocket();
  }

  // --- the idle timer ---

  private startIdleTimer(): void {
    this.stopIdleTimer();
    this.idleTimer = setTimeout(() => this.idleTimeout(), this.runtime.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private idleTimeout(): void {
    this.idleTimer = null;
    if (!this.waiting || this.closed || this.closing) return;
    this.log.info('idle timeout');
    void this.write(responseLine('BYE', 'Disconnected for inactivity'), true).then(() => this.closeSocket());
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.stopIdleTimer();
    const waiter = this.dataWaiter;
    this.dataWaiter = null;
    waiter?.();
    this.socket.destroy();
    try {
      this.services.hooks.onClose(this.connection);
    } catch (error) {
      this.log.warn({ err: error }, 'onClose hook failed');
    }
    this.registration?.close();
    this.registration = null;
    this.log.debug('connection closed');
    this.markFinished();
  }

  // --- session operations offered to commands ---

  capabilities(): string {
    return capabilityLines(this, tlsRequiredForPasswords(this, this.services.hooks));
  }

  private async challenge(prompt: string): Promise<string | null> {
    await this.write(`"${Buffer.from(prompt).toString('base64')}"\r\n`, true);
    const item = await this.nextItem();
    if (!item) return null;
    if (item.type !== 'command') throw err('SASL response too long');
    return parseSaslResponse(item);
  }

  private login(user: User): void {
    this.user = user;
    this.state = 'authenticated';
    this.ticket?.loggedIn();
    this.connection.user = user.username;
    this.log.info({ user: user.username }, 'authenticated');
  }

  private logout(): void {
    this.log.info({ user: this.user?.username }, 'unauthenticated');
    this.user = null;
    this.state = 'unauthenticated';
    this.connection.user = null;
  }

  private async startTls(): Promise<void> {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onClose);
    this.framer.clear();
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    try {
      this.socket = await upgradeToTls(this.socket, this.runtime.tls);
    } catch (error) {
      this.log.info({ err: error }, 'TLS handshake failed');
      this.socket.destroy();
      this.finish();
      return;
    }
    this.secure = true;
    this.connection.secure = true;
    this.registration?.update({ secure: true, tls: tlsDetails(this.socket) });
    this.attachSocket(this.socket);
    // RFC 5804 2.2: the capabilities again, as they are with TLS, then OK.
    await this.write(`${this.capabilities()}${responseLine('OK', 'TLS negotiation successful')}`, true);
  }

  private register(): void {
    this.registration =
      this.services.sessions?.open({
        id: this.id,
        protocol: 'managesieve',
        remoteAddress: this.connection.remoteAddress,
        remotePort: this.connection.remotePort,
        localPort: this.connection.localPort,
        secure: this.secure,
        tls: tlsDetails(this.socket),
        close: (text) => this.shutdown(text),
      }) ?? null;
  }

  private makeContext(): ManageSieveContext {
    return {
      session: this,
      services: this.services,
      log: this.log,
      challenge: (prompt) => this.challenge(prompt),
      startTls: () => this.startTls(),
      login: (user) => this.login(user),
      logout: () => this.logout(),
      capabilities: () => this.capabilities(),
    };
  }
}

function codeOf(code: ManageSieveCode | null) {
  return code === null ? null : { code };
}
