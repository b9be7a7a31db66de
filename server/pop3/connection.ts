/**
 * One POP3 connection: bytes in → line framer → parser → dispatch (state check) → command →
 * reply out. Commands run one at a time in the order received; a line is taken from the framer
 * only when the previous command has been answered, so pipelined commands (RFC 2449 PIPELINING)
 * wait their turn and are answered in order.
 *
 * The idle timer runs only while the session waits for the client (a command or an AUTH
 * continuation) and restarts with every byte received. It is stopped while a command is being
 * answered: a reply is written with backpressure (waiting for 'drain') and the timer starts again
 * only once the last byte of the reply has been handed to the kernel, so a slow RETR of a large
 * message on a slow link is never cut off. (What is still in the kernel's socket buffers then
 * counts as sent: with RFC 1939's ten-minute minimum, only a client that stops reading for that
 * long with the end of a reply unread could be closed, and then it still gets every byte first.)
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
import { capabilityList } from './capabilities.ts';
import type { Pop3Context, Pop3Reply, Pop3Services, Pop3Session, SessionState } from './context.ts';
import { stuffLine, wireChunks } from './encoder.ts';
import { err, errorLine, mapError, Pop3Error, type Pop3Code } from './errors.ts';
import { LineFramer } from './framer.ts';
import { Maildrop } from './maildrop.ts';
import { MaildropLease } from './maildrop-lease.ts';
import { isKeyword, parseCommand } from './parser.ts';
import { COMMANDS } from './registry.ts';
import { writeReply } from '../net/write-reply.ts';

/** Longest command line without its CRLF (RFC 2449 4 allows 255 octets; some clients send more). */
export const MAX_COMMAND_LINE = 510;
/** Longest SASL continuation line (RFC 5034 4: not bound by the command limit). */
export const MAX_CONTINUATION_LINE = 16 * 1024;
/** Input waiting to be read before the socket stops reading (pipelined commands). */
const MAX_BUFFERED_INPUT = 64 * 1024;
/** Invalid lines in a row (unknown, over-long) before the connection is closed. */
const MAX_INVALID_LINES = 10;
/** How long a closing connection may take to send its last bytes. */
const CLOSE_GRACE_MS = 2000;

/** What every connection of one POP3 service shares. */
export interface Pop3Runtime {
  services: Pop3Services;
  tls: TlsProvider;
  /** Idle timeout in milliseconds (from `pop3.idle_timeout`; tests use a shorter one). */
  idleTimeoutMs: number;
}

export class Pop3Connection implements Pop3Session {
  readonly id = crypto.randomBytes(8).toString('hex');
  state: SessionState = 'authorization';
  pendingUser: string | null = null;
  user: User | null = null;
  maildrop: Maildrop | null = null;
  secure: boolean;
  /** From loopback, where passwords without TLS are allowed (unless configured otherwise). */
  readonly loopback: boolean;
  readonly connection: ConnectionSession;
  readonly log: Logger;

  private socket: net.Socket;
  private readonly framer = new LineFramer();
  private readonly context: Pop3Context;
  private readonly services: Pop3Services;
  private dataWaiter: (() => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** The session is waiting for the client: the idle timer runs. */
  private waiting = false;
  /** A command is being executed and answered. */
  private busy = false;
  private closed = false;
  private closing = false;
  private closeAfterReply = false;
  private paused = false;
  private invalidLines = 0;
  /** The maildrop lock, from login until the session ends. */
  private lease: MaildropLease | null = null;
  /** This session in the admin API's registry, once the connection rules let it in. */
  private registration: SessionHandle | null = null;
  private markFinished: () => void = () => {};
  /** Resolves once the connection is gone and its lease released (after onClose ran). */
  readonly finished = new Promise<void>((resolve) => (this.markFinished = resolve));
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly onClose = () => this.finish();

  constructor(
    socket: net.Socket,
    secure: boolean,
    private readonly runtime: Pop3Runtime,
    /** The connection gate's ticket: the pre-login deadline and eviction end the session through it. */
    private readonly ticket: GateTicket | null = null,
  ) {
    this.socket = socket;
    this.secure = secure;
    this.services = runtime.services;
    const remoteAddress = socket.remoteAddress ?? '';
    this.loopback = plaintextAuthAllowedFrom(this.services.config, remoteAddress);
    this.connection = connectionSessionOf(this.id, 'pop3', socket, secure);
    this.log = this.services.logger.child({ session: this.id, protocol: 'pop3', remote: remoteAddress });
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

  /** True while a command is being executed and answered (the idle timer is stopped then). */
  get answering(): boolean {
    return this.busy;
  }

  /** Runs the connection to its end. */
  async run(): Promise<void> {
    this.attachSocket(this.socket);
    try {
      const verdict = await this.services.hooks.onConnect(this.connection);
      if (!verdict.allow) {
        this.log.warn({ reason: verdict.reason }, 'connection refused');
        await this.write(errorLine(verdict.temporary ? 'SYS/TEMP' : 'SYS/PERM', verdict.reason), true);
        this.closeSocket();
        return;
      }
      this.log.debug({ secure: this.secure }, 'connection opened');
      this.register();
      await this.write('+OK Mallard POP3 ready\r\n', true);
      await this.commandLoop();
    } catch (error) {
      this.log.warn({ err: error }, 'connection failed');
      this.closeSocket();
    } finally {
      // The socket's 'close' event finishes the session; this covers a socket that never opened.
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
    if (this.framer.buffered > MAX_BUFFERED_INPUT && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    if (this.waiting) this.startIdleTimer();
    const waiter = this.dataWaiter;
    this.dataWaiter = null;
    waiter?.();
  }

  /** The next line or over-long-line report, waiting (idle timer running) as needed; null when gone. */
  private async nextLine(maxLength: number) {
    for (;;) {
      if (this.closed || this.closing) return null;
      const item = this.framer.next(maxLength);
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
      const item = await this.nextLine(MAX_COMMAND_LINE);
      if (!item) return;
      this.busy = true;
      try {
        if (item.type === 'too-long') await this.invalid('Command line too long');
        else await this.execute(item.line);
      } finally {
        this.busy = false;
        this.registration?.update({
          command: null,
          user: this.user ? { id: this.user.id, username: this.user.username } : null,
          mailbox: this.maildrop ? 'INBOX' : null,
        });
      }
      if (this.closeAfterReply) this.closeSocket();
    }
  }

  // --- dispatch ---

  private async execute(line: Buffer): Promise<void> {
    const command = parseCommand(line);
    if (!command) return;
    const handler = COMMANDS[command.name];
    if (!handler) {
      return this.invalid(isKeyword(command.name) ? `Unknown command ${command.name}` : 'Unknown command');
    }
    this.invalidLines = 0;
    if (!handler.states.includes(this.state)) {
      const when = this.state === 'authorization' ? 'before login' : 'after login';
      await this.write(errorLine(null, `${command.name} is not allowed ${when}`), true);
      return;
    }
    this.log.debug({ command: command.name }, 'command');
    this.registration?.command(command.name);
    if (this.lease && !(await this.lease.beforeCommand())) {
      await this.write(errorLine('IN-USE', 'Maildrop lock lost to another POP3 session'), true);
      this.closeSocket();
      return;
    }
    let reply: Pop3Reply;
    try {
      reply = await handler.run(this.context, command);
    } catch (error) {
      const mapped = mapError(error);
      if (mapped.reference) {
        this.log.error({ err: error, reference: mapped.reference, command: command.name }, 'command failed');
      }
      await this.write(errorLine(mapped.code, mapped.text), true);
      if (mapped.fatal) this.closeSocket();
      return;
    }
    // The session ends with this reply (QUIT): free the maildrop first, so that the client may
    // log in again, from any server process, as soon as it reads the reply.
    if (reply.close) await this.releaseLease();
    await this.writeReply(reply);
    if (reply.close) this.closeSocket();
    else await reply.after?.();
  }

  /** Answers an unknown command or an over-long line; too many in a row end the connection. */
  private async invalid(text: string): Promise<void> {
    if (++this.invalidLines >= MAX_INVALID_LINES) {
      this.log.info('too many invalid commands');
      await this.write(errorLine(null, 'Too many invalid commands, closing connection'), true);
      this.closeSocket();
      return;
    }
    await this.write(errorLine(null, text), true);
  }

  // --- output ---

  private async writeReply(reply: Pop3Reply): Promise<void> {
    const head = `+OK ${reply.text.replace(/[\r\n]+/g, ' ')}\r\n`;
    if (reply.message) {
      await this.write(head);
      for (const chunk of wireChunks(reply.message.raw, { bodyLines: reply.message.bodyLines })) {
        if (this.closed) return;
        await this.write(chunk);
      }
      await this.write('.\r\n', true);
    } else if (reply.lines) {
      let text = head;
      for (const line of reply.lines) text += stuffLine(line);
      await this.write(`${text}.\r\n`, true);
    } else {
      await this.write(head, true);
    }
  }

  /**
   * Sends bytes. Resolves when the socket can take more (backpressure); with `last`, only once
   * these bytes have left the process (the end of a reply: the idle timer may start then).
   */
  private write(data: string | Buffer, last = false): Promise<void> {
    if (this.closed || this.socket.destroyed) return Promise.resolve();
    this.registration?.addBytes(0, typeof data === 'string' ? Buffer.byteLength(data) : data.length);
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

  /** Ends the session from outside (server shutdown): after the reply in progress, if any. */
  async shutdown(text = 'Server shutting down', code: Pop3Code = 'SYS/TEMP'): Promise<void> {
    if (this.closed || this.closing) return;
    if (this.busy) {
      // Answering a command: let the reply finish, then close instead of reading the next one.
      this.closeAfterReply = true;
      setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
      return;
    }
    await this.write(errorLine(code, text), true);
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
    // RFC 1939 3: the server closes without entering UPDATE: nothing marked is removed.
    void this.write(errorLine(null, 'Disconnected for inactivity'), true).then(() => this.closeSocket());
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.stopIdleTimer();
    const released = this.releaseLease();
    this.maildrop = null;
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
    void released.then(() => this.markFinished());
  }

  private async releaseLease(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    await lease?.release();
  }

  // --- session operations offered to commands ---

  capabilities(): string[] {
    return capabilityList(this, tlsRequiredForPasswords(this, this.services.hooks));
  }

  private async challenge(prompt: string): Promise<string | null> {
    await this.write(`+ ${Buffer.from(prompt).toString('base64')}\r\n`, true);
    const item = await this.nextLine(MAX_CONTINUATION_LINE);
    if (!item) return null;
    if (item.type === 'too-long') throw err('SASL response too long');
    return item.line.toString('latin1');
  }

  private async enterTransaction(user: User): Promise<void> {
    // The lock is a store lease, so it holds against sessions of every server process.
    const lease = new MaildropLease(
      this.services.store,
      user.id,
      this.id,
      this.log,
      () => void this.shutdown('Maildrop lock lost to another POP3 session', 'IN-USE'),
    );
    let acquired: boolean;
    try {
      acquired = await lease.acquire();
    } catch (error) {
      this.log.warn({ err: error, user: user.username }, 'cannot take the maildrop lock');
      throw new Pop3Error('SYS/TEMP', 'Cannot lock the maildrop now, try again later');
    }
    if (!acquired) {
      this.log.info({ user: user.username }, 'maildrop in use');
      throw new Pop3Error('IN-USE', 'Mailbox is locked by another POP3 session');
    }
    this.lease = lease;
    try {
      this.maildrop = await Maildrop.open(this.services.store, user.id);
    } catch (error) {
      await this.releaseLease();
      throw error;
    }
    if (this.closed) {
      // The client left while the lock was taken or the maildrop read: finish() ran before.
      this.maildrop = null;
      await lease.release();
      this.lease = null;
      return;
    }
    this.user = user;
    this.state = 'transaction';
    this.ticket?.loggedIn();
    this.connection.user = user.username;
    this.log.info({ user: user.username, messages: this.maildrop.total }, 'authenticated');
  }

  private async startTls(): Promise<void> {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onClose);
    // Anything the client sent after STLS before the handshake is an injection attempt: drop it.
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
  }

  private register(): void {
    this.registration =
      this.runtime.services.sessions?.open({
        id: this.id,
        protocol: 'pop3',
        remoteAddress: this.connection.remoteAddress,
        remotePort: this.connection.remotePort,
        localPort: this.connection.localPort,
        secure: this.secure,
        tls: tlsDetails(this.socket),
        close: (text) => this.shutdown(text),
      }) ?? null;
  }

  private makeContext(): Pop3Context {
    return {
      session: this,
      services: this.services,
      log: this.log,
      challenge: (prompt) => this.challenge(prompt),
      startTls: () => this.startTls(),
      enterTransaction: (user) => this.enterTransaction(user),
      capabilities: () => this.capabilities(),
    };
  }
}
