/**
 * One IMAP connection: bytes in → framer → parser → dispatch → command → responses out. Commands
 * run one at a time in the order received; the framer is pulled only when the previous command is
 * done, so pipelined input (even bytes right after IDLE's DONE) waits its turn in the framer.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import type { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { clientNameOf, tlsDetails, type SessionHandle } from '../admin/sessions.ts';
import { plaintextAuthAllowedFrom, tlsRequiredForPasswords } from '../auth/login-policy.ts';
import { type ConnectionSession, connectionSessionOf } from '../hooks/types.ts';
import type { Logger } from '../log.ts';
import { isStoreError } from '../store/errors.ts';
import type { User } from '../store/types.ts';
import type { EndReason, GateTicket } from '../net/connection-gate.ts';
import type { UserSlot } from '../net/user-sessions.ts';
import { upgradeToTls } from '../net/listener.ts';
import type { TlsProvider } from '../tls/context.ts';
import { tlsFirstText } from './auth-flow.ts';
import { capabilityList } from './capabilities.ts';
import type { CommandOutcome, ImapContext, ImapServices, ImapSession, SessionState } from './context.ts';
import { ResponseBuilder } from './encoder/index.ts';
import { ImapError, mapError, no } from './errors.ts';
import {
  DEFAULT_FRAMER_LIMITS,
  ImapFramer,
  LITERAL_MINUS_MAX,
  type FramerError,
  type FramerLimits,
  isParseError,
  parseCommand,
  type FramerItem,
  type ParsedCommand,
} from './parser/index.ts';
import { COMMANDS } from './registry.ts';
import type { Notifier } from './notify.ts';
import { writeNewMessageFetch, writeNotifications } from './notify-updates.ts';
import { utf8Names } from './rev2.ts';
import { isUidOnly, usesSequenceNumbers } from './uidonly.ts';
import { writeViewUpdates } from './updates.ts';

/**
 * A response is joined into one Buffer before it is written when it is below JOIN_BELOW_BYTES and
 * made of small pieces (text, flag lists); pieces of JOIN_PIECES_BELOW_BYTES and more on average
 * (the 64 KB chunks of a FETCH of flags, message bodies) go out as they are, in one writev.
 */
const JOIN_BELOW_BYTES = 1024 * 1024;
const JOIN_PIECES_BELOW_BYTES = 8 * 1024;

/**
 * A command's output is held until its tagged reply and written with it in one system call (one
 * packet to the client), unless this much gathers first: a big response goes out as it is made.
 */
const HOLD_BELOW_BYTES = 64 * 1024;

/** How long a closing connection waits for the client to close its side before it is cut. */
const CLOSE_GRACE_MS = 2000;

/**
 * Received bytes waiting behind the command being run (pipelined commands) before the socket
 * stops reading; the literal being read does not count (it is consumed as it arrives).
 */
const MAX_BUFFERED_INPUT = 1024 * 1024;

/** What a session hears when the connection gate ends it. */
const GATE_GOODBYES: Record<EndReason, string> = {
  'prelogin-timeout': 'Login timeout, closing connection',
  evicted: 'Too many connections waiting to log in, closing the oldest',
};

/**
 * The connection is also the context its commands run with (ImapContext): one object per session
 * rather than a context object of fifteen closures, which every idle session would keep.
 */
export class ImapConnection implements ImapSession, ImapContext {
  readonly id = crypto.randomBytes(8).toString('hex');
  state: SessionState = 'not-authenticated';
  user: User | null = null;
  private selected: ImapSession['view'] = null;
  readonly enabled = new Set<string>();
  clientId: ImapSession['clientId'] = null;
  notifier: Notifier | null = null;
  secure: boolean;
  compressed = false;
  /** From loopback, where passwords without TLS are allowed (unless configured otherwise). */
  readonly loopback: boolean;
  readonly connection: ConnectionSession;
  readonly log: Logger;

  private socket: net.Socket;
  private framer: ImapFramer;
  private output: Writable & { flush?(kind: number, callback: () => void): void };
  private dataWaiter: (() => void) | null = null;
  private closed = false;
  private closing = false;
  /** Settles once the socket has closed after a graceful close (everything written went out). */
  private closingDone: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private idleTimerSeconds = 0;
  /** While IDLE runs: told when the journal brought something to push (see hasPushable). */
  private onPushable: (() => void) | null = null;
  /** This connection's slot in the per-user connection limit, from login to close. */
  private userSlot: UserSlot | null = null;
  /** This session in the admin API's registry, once the connection rules let it in. */
  private registration: SessionHandle | null = null;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  /** Where input comes from: the socket, or the inflater after COMPRESS. Paused when too much waits. */
  private input: NodeJS.ReadableStream;
  private inputPaused = false;
  /** Output of the command being run, held for its tagged reply (null: written at once). */
  private held: Buffer[] | null = null;
  private heldBytes = 0;

  get view(): ImapSession['view'] {
    return this.selected;
  }

  /** Changing the selected mailbox lets go of the shared state of the one before. */
  set view(view: ImapSession['view']) {
    if (this.selected && this.selected !== view) this.services.mailboxStates.release(this.selected.state);
    this.selected = view;
  }

  constructor(
    socket: net.Socket,
    secure: boolean,
    readonly services: ImapServices,
    private readonly tls: TlsProvider,
    /** The connection gate's ticket: the pre-login deadline and eviction end the session through it. */
    private readonly ticket: GateTicket | null = null,
  ) {
    this.socket = socket;
    this.input = socket;
    this.output = socket;
    this.secure = secure;
    const remoteAddress = socket.remoteAddress ?? '';
    this.loopback = plaintextAuthAllowedFrom(services.config, remoteAddress);
    this.connection = connectionSessionOf(this.id, 'imap', socket, secure);
    this.log = services.logger.child({ session: this.id, protocol: 'imap', remote: remoteAddress });
    this.framer = this.newFramer();
    ticket?.onEnd((reason) => {
      this.log.warn({ reason }, 'ended by the connection limits');
      void this.shutdown(GATE_GOODBYES[reason]);
    });
  }

  private newFramer(): ImapFramer {
    return new ImapFramer(this.framerLimits());
  }

  /**
   * Before login, literals are a few KB (a LOGIN needs no more) and the session speaks LITERAL-
   * (RFC 7888): a non-synchronising literal over 4096 bytes is refused with BAD [TOOBIG] (read
   * and thrown away, up to the pre-login literal limit) and one over that limit closes the
   * connection (its bytes cannot be told apart from commands, and swallowing megabytes for a
   * stranger is what the limit is there to prevent). After login: LITERAL+ up to the APPEND limit.
   */
  private framerLimits(): Partial<FramerLimits> {
    const limits = this.services.config.limits;
    if (this.state === 'not-authenticated') {
      const literal = limits.prelogin_literal_size;
      return {
        maxLineLength: limits.max_line_length,
        maxLiteralSize: literal,
        // LOGIN and AUTHENTICATE take two strings at most.
        maxCommandSize: 2 * literal + limits.max_line_length,
        maxDiscardSize: literal,
        literalMinus: true,
      };
    }
    return {
      maxLineLength: limits.max_line_length,
      maxLiteralSize: limits.max_message_size,
      maxCommandSize: limits.max_message_size + limits.max_line_length,
      maxDiscardSize: DEFAULT_FRAMER_LIMITS.maxDiscardSize,
      literalMinus: false,
    };
  }

  /** Runs the connection to its end. */
  async run(): Promise<void> {
    this.attachSocket(this.socket);
    try {
      const verdict = await this.services.hooks.onConnect(this.connection);
      if (!verdict.allow) {
        this.log.warn({ reason: verdict.reason }, 'connection refused');
        await this.bye(verdict.reason.replace(/[\r\n]/g, ' '));
        return;
      }
      this.log.debug({ secure: this.secure }, 'connection opened');
      this.register();
      const greeting = `* OK [CAPABILITY ${this.capabilities().join(' ')}] Mallard IMAP ready\r\n`;
      await this.writeRaw(Buffer.from(greeting));
      this.resetIdleTimer();
      await this.commandLoop();
    } catch (error) {
      this.log.warn({ err: error }, 'connection failed');
    } finally {
      // A goodbye under way (LOGOUT, a kick, a timeout) finishes flushing before the socket goes.
      if (this.closingDone) await this.closingDone;
      this.finish();
    }
  }

  // --- input ---

  private attachSocket(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('close', () => this.finish());
    socket.on('error', (error) => this.log.debug({ err: error }, 'socket error'));
  }

  private receive(chunk: Buffer): void {
    this.registration?.addBytes(chunk.length, 0);
    this.framer.push(chunk);
    // Backpressure: commands run one at a time, so a client that pipelines faster than they are
    // answered (or never reads the answers) would otherwise pile its input up here without end.
    if (this.framer.bufferedBytes > MAX_BUFFERED_INPUT && !this.inputPaused) {
      this.inputPaused = true;
      this.input.pause();
    }
    this.resetIdleTimer();
    const waiter = this.dataWaiter;
    this.dataWaiter = null;
    waiter?.();
  }

  /** Waits for the next bytes, reading again first if input was paused: the framer needs more. */
  private waitForData(): Promise<void> {
    if (this.inputPaused) {
      this.inputPaused = false;
      this.input.resume();
    }
    return new Promise<void>((resolve) => (this.dataWaiter = resolve));
  }

  /** The next framer item, waiting for more bytes as needed; null when the connection is gone. */
  private async nextItem(mode: 'command' | 'line'): Promise<FramerItem | null> {
    for (;;) {
      if (this.closed) return null;
      const item = this.framer.next(mode);
      if (item) return item;
      await this.waitForData();
    }
  }

  private async commandLoop(): Promise<void> {
    while (!this.closed && !this.closing) {
      const item = await this.nextItem('command');
      if (!item) return;
      switch (item.type) {
        case 'literal-request':
          if (this.refusesLiteralLogin(item.command)) {
            // A LOGIN's literal is the name or the password: refused before the client sends it.
            this.framer.rejectLiteral();
            await this.writeRaw(
              this.statusBuffer(item.tag ?? '*', 'NO', tlsFirstText(this), 'PRIVACYREQUIRED'),
            );
            break;
          }
          // The framer refuses literals over the limits itself (as an error item): this one fits.
          this.framer.acceptLiteral();
          await this.writeRaw(Buffer.from('+ Ready for literal data\r\n'));
          break;
        case 'error':
          if (item.error.fatal) return this.bye(this.tooMuchDataText());
          if (this.isLiteralMinusRefusal(item.error)) {
            // RFC 7888 4: a tagged BAD, with TOOBIG as RFC 7888 asks for APPEND (any command here).
            const text = `Non-synchronizing literal over ${LITERAL_MINUS_MAX} bytes (LITERAL-): send it synchronizing`;
            await this.writeRaw(this.statusBuffer(item.error.tag ?? '*', 'BAD', text, 'TOOBIG'));
          } else if (item.error.kind === 'literal-too-large') {
            const text =
              this.state === 'not-authenticated' ? 'Literal too large before login' : 'Message too large';
            await this.writeRaw(this.statusBuffer(item.error.tag ?? '*', 'NO', text, 'TOOBIG'));
          } else {
            await this.writeRaw(this.statusBuffer(item.error.tag ?? '*', 'BAD', item.error.message));
          }
          break;
        case 'line':
          break;
        case 'command':
          await this.execute(parseCommand(item.command));
          this.updateRegistration();
          break;
      }
    }
  }

  // --- dispatch ---

  private async execute(parsed: ReturnType<typeof parseCommand>): Promise<void> {
    if (isParseError(parsed)) {
      if (parsed.kind === 'empty') return;
      if (parsed.kind === 'bad-charset') {
        await this.writeRaw(
          this.statusBuffer(parsed.tag ?? '*', 'NO', parsed.message, 'BADCHARSET (UTF-8 US-ASCII)'),
        );
      } else {
        await this.writeRaw(this.statusBuffer(parsed.tag ?? '*', 'BAD', parsed.message));
      }
      return;
    }
    const handler = COMMANDS[parsed.name];
    const commandName = 'uid' in parsed && parsed.uid ? `UID ${parsed.name}` : parsed.name;
    if (this.state === 'logout') return;
    if (!handler) {
      await this.writeRaw(this.statusBuffer(parsed.tag, 'BAD', `${commandName} is not supported`));
      return;
    }
    if (!handler.states.includes(this.state)) {
      await this.writeRaw(
        this.statusBuffer(parsed.tag, 'BAD', `${commandName} is not allowed ${this.stateWords()}`),
      );
      return;
    }
    if (isUidOnly(this) && usesSequenceNumbers(parsed)) {
      const text = `${commandName} by sequence number: UIDONLY is on, use UIDs`;
      await this.writeRaw(this.statusBuffer(parsed.tag, 'BAD', text, 'UIDREQUIRED'));
      return;
    }
    const allowExpunge = handler.allowsExpunge ? handler.allowsExpunge(parsed as never) : true;
    this.registration?.command(commandName);
    this.holdOutput();
    let outcome: CommandOutcome | void;
    try {
      outcome = await handler.run(this, parsed as never);
    } catch (error) {
      const mapped = mapError(error);
      if (mapped.reference)
        this.log.error({ err: error, reference: mapped.reference, command: commandName }, 'command failed');
      await this.sendUpdates(allowExpunge, this.reportsSelected());
      await this.writeRaw(this.statusBuffer(parsed.tag, mapped.status, mapped.text, mapped.code));
      await this.releaseOutput();
      return;
    }
    if (this.closed || this.closing) return this.releaseOutput();
    const loggingOut = this.isLoggingOut(); // the command may have changed the state
    if (!loggingOut) await this.sendUpdates(allowExpunge, this.reportsSelected());
    await this.writeRaw(
      this.statusBuffer(parsed.tag, 'OK', outcome?.text ?? `${commandName} completed`, outcome?.code),
    );
    await this.releaseOutput();
    if (loggingOut) await this.closeSocket();
    else await outcome?.after?.();
  }

  /** A non-synchronising literal within the literal limit refused only because LITERAL- caps it. */
  private isLiteralMinusRefusal(error: FramerError): boolean {
    const limits = this.framer.limits;
    return (
      error.kind === 'literal-too-large' &&
      error.synchronizing === false &&
      limits.literalMinus &&
      (error.literalSize ?? Infinity) <= limits.maxLiteralSize
    );
  }

  private tooMuchDataText(): string {
    return this.state === 'not-authenticated'
      ? `[TOOBIG] Literal over ${this.services.config.limits.prelogin_literal_size} bytes before login`
      : 'Too much data';
  }

  private isLoggingOut(): boolean {
    return this.state === 'logout';
  }

  private stateWords(): string {
    switch (this.state) {
      case 'not-authenticated':
        return 'before authentication';
      case 'authenticated':
        return 'without a selected mailbox';
      case 'selected':
        return 'in the selected state';
      case 'logout':
        return 'after LOGOUT';
    }
  }

  // --- output ---

  builder(): ResponseBuilder {
    return new ResponseBuilder({ utf8: utf8Names(this) });
  }

  private statusBuffer(tag: string, status: 'OK' | 'NO' | 'BAD', text: string, code?: string | null): Buffer {
    return this.builder().status(tag, status, text, code).toBuffer();
  }

  private writeRaw(data: Buffer): Promise<void> {
    return this.writeChunks([data], data.length);
  }

  /**
   * A response as the builder holds it. A big one (a FETCH of a large message) goes out chunk by
   * chunk, the message bytes straight from the stored Buffer: joining it into one Buffer first would
   * copy tens of megabytes on the event loop (and allocate them again) while everyone else waits.
   */
  private writeResponse(builder: ResponseBuilder): Promise<void> {
    const length = builder.byteLength;
    const chunks = builder.toChunks();
    if (length < JOIN_BELOW_BYTES && length < chunks.length * JOIN_PIECES_BELOW_BYTES) {
      return this.writeRaw(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    }
    return this.writeChunks(chunks, length);
  }

  /** From now until releaseOutput, writes are held (a command is being run). */
  private holdOutput(): void {
    this.held = [];
    this.heldBytes = 0;
  }

  /**
   * Writes what was held and stops holding: with the tagged reply, and before anything that waits
   * for the client (a continuation request, IDLE), switches the socket (STARTTLS, COMPRESS) or
   * closes it.
   */
  private releaseOutput(): Promise<void> {
    const held = this.held;
    if (held === null) return Promise.resolve();
    this.held = null;
    if (held.length === 0) return Promise.resolve();
    const length = this.heldBytes;
    // One write either way: small pieces joined (cheaper than a writev of many), big ones corked.
    if (held.length > 1 && length < HOLD_BELOW_BYTES)
      return this.writeChunks([Buffer.concat(held, length)], length);
    return this.writeChunks(held, length);
  }

  private writeChunks(chunks: readonly Buffer[], length: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.held !== null) {
      for (const chunk of chunks) this.held.push(chunk);
      this.heldBytes += length;
      if (this.heldBytes < HOLD_BELOW_BYTES) return Promise.resolve();
      // Enough to send: out it goes now, and holding goes on for what the command writes next.
      const release = this.releaseOutput();
      this.holdOutput();
      return release;
    }
    this.registration?.addBytes(0, length);
    let writable = true;
    // Corked: the chunks leave in one writev, not one system call each.
    if (chunks.length > 1) this.output.cork();
    for (const chunk of chunks) writable = this.output.write(chunk);
    if (chunks.length > 1) this.output.uncork();
    if (this.compressed) this.flushCompression();
    if (writable) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.output.removeListener('drain', done);
        this.socket.removeListener('close', done);
        resolve();
      };
      this.output.once('drain', done);
      this.socket.once('close', done);
    });
  }

  private flushCompression(): void {
    this.output.flush?.(zlib.constants.Z_SYNC_FLUSH, () => {});
  }

  async bye(text: string): Promise<void> {
    if (this.closing) return this.closingDone ?? undefined;
    await this.releaseOutput();
    await this.writeRaw(Buffer.from(`* BYE ${text}\r\n`));
    await this.closeSocket();
  }

  /** Ends the session from outside (server shutdown, admin kick) with a BYE. */
  async shutdown(text = 'Server shutting down'): Promise<void> {
    if (this.closed) return;
    await this.bye(text);
  }

  /**
   * Closes the connection once every byte written so far has gone out. Ending the deflate stream
   * writes its last block and then ends the socket (it is piped with end: true); ending a TLS socket
   * sends its pending records before close_notify. Destroying the socket before either completes
   * would cut the goodbye (BYE and the tagged OK of LOGOUT), which mbsync reports as an unexpected EOF.
   * A client that never closes its side is cut after a grace period.
   */
  private closeSocket(): Promise<void> {
    this.closing = true;
    if (this.closingDone) return this.closingDone;
    void this.releaseOutput(); // written before the end, in order
    const socket = this.socket;
    this.closingDone = new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      socket.once('close', () => resolve());
    });
    if (this.compressed) this.output.end();
    else socket.end();
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    return this.closingDone;
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private resetIdleTimer(): void {
    const { idle_timeout: timeout, idle_max: idleMax } = this.services.config.imap;
    // Before login a minute is plenty; after it, at least RFC 3501's 30 minutes and never before
    // IDLE's own limit ends the IDLE.
    const seconds = this.state === 'not-authenticated' ? 60 : Math.max(timeout, idleMax + 60);
    // Reset at every command: the same timer restarted, rather than a new one each time.
    if (this.idleTimer && this.idleTimerSeconds === seconds) {
      this.idleTimer.refresh();
      return;
    }
    this.stopIdleTimer();
    this.idleTimerSeconds = seconds;
    this.idleTimer = setTimeout(() => {
      this.log.info('idle timeout');
      void this.bye('Idle timeout, closing connection');
    }, seconds * 1000);
    this.idleTimer.unref();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopIdleTimer();
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.view = null;
    this.userSlot?.release();
    this.userSlot = null;
    this.dataWaiter?.();
    this.onPushable?.();
    this.socket.destroy();
    this.services.hooks.onClose(this.connection);
    this.registration?.close();
    this.registration = null;
    this.log.debug('connection closed');
  }

  // --- the admin API's session registry ---

  private register(): void {
    this.registration =
      this.services.sessions?.open({
        id: this.id,
        protocol: 'imap',
        remoteAddress: this.connection.remoteAddress,
        remotePort: this.connection.remotePort,
        localPort: this.connection.localPort,
        secure: this.secure,
        tls: tlsDetails(this.socket),
        close: (text) => this.shutdown(text),
      }) ?? null;
  }

  /** After each command: what it may have changed (login, ID, SELECT); names only, no arguments. */
  private updateRegistration(): void {
    this.registration?.update({
      command: null,
      user: this.user ? { id: this.user.id, username: this.user.username } : null,
      clientName: clientNameOf(this.clientId),
      mailbox: this.view?.mailbox.path ?? null,
    });
  }

  // --- session operations offered to commands (ImapContext) ---

  get session(): ImapSession {
    return this;
  }

  write(data: Buffer | ResponseBuilder): Promise<void> {
    return Buffer.isBuffer(data) ? this.writeRaw(data) : this.writeResponse(data);
  }

  async flushUpdates(allowExpunge: boolean): Promise<void> {
    await this.sendUpdates(allowExpunge);
  }

  closeAfterResponse(): void {
    this.state = 'logout';
  }

  private refusesLiteralLogin(command: string | null): boolean {
    return (
      this.state === 'not-authenticated' &&
      command?.toUpperCase() === 'LOGIN' &&
      tlsRequiredForPasswords(this, this.services.hooks)
    );
  }

  capabilities(): string[] {
    return capabilityList(this, this.services.config, tlsRequiredForPasswords(this, this.services.hooks));
  }

  async login(user: User): Promise<void> {
    const limit = this.services.config.imap.max_connections_per_user;
    const slot = await this.services.userSessions.acquire(user.id, limit);
    if (!slot) throw no('LIMIT', `Too many connections for this account (limit ${limit})`);
    if (this.closed) {
      slot.release(); // the client left while the slot was asked for
      return;
    }
    this.userSlot = slot;
    this.user = user;
    this.state = 'authenticated';
    this.ticket?.loggedIn();
    this.framer.setLimits(this.framerLimits());
    this.connection.user = user.username;
    this.log.info({ user: user.username }, 'authenticated');
    this.unsubscribe = this.services.follower.subscribe(user.id, (entry) => {
      if (entry.kind === 'mailbox-delete' && entry.mailboxId === this.view?.mailbox.id) {
        // Another session deleted the mailbox this one shows: nothing sensible is left (Dovecot does the same).
        this.view = null;
        this.state = 'authenticated';
        void this.bye('Selected mailbox was deleted, have to disconnect.');
        return;
      }
      this.view?.queue(entry);
      this.notifier?.observe(entry, this.view?.mailbox.id ?? null);
      if (this.onPushable && this.hasPushable()) this.onPushable();
    });
  }

  unauthenticate(): void {
    this.log.info({ user: this.user?.username }, 'unauthenticated');
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.view = null;
    this.userSlot?.release();
    this.userSlot = null;
    this.user = null;
    this.connection.user = null;
    this.enabled.clear();
    this.notifier = null;
    this.state = 'not-authenticated';
    // Pre-login literal limits (LITERAL-) and the short idle timer apply again. The gate's
    // pre-login deadline does not restart: the connection once logged in.
    this.framer.setLimits(this.framerLimits());
    this.resetIdleTimer();
  }

  /**
   * Whether the selected mailbox's changes by others are reported unasked (in IDLE, and after
   * each command): always, unless NOTIFY asked for no event of it (no selected filter, selected
   * NONE, NOTIFY NONE: RFC 5465 3.1), which keeps the mailbox as the client last saw it, as Dovecot
   * does. Commands that change the mailbox themselves (EXPUNGE, MOVE, STORE, NOTIFY SET) still
   * report through ctx.flushUpdates.
   */
  private reportsSelected(): boolean {
    return this.notifier?.pushesSelected ?? true;
  }

  /** What IDLE sends at once: the selected mailbox's changes (see reportsSelected) and NOTIFY's. */
  private hasPushable(): boolean {
    const selected = this.reportsSelected() && this.view?.hasPending() === true;
    return selected || this.notifier?.hasPending() === true;
  }

  /**
   * Sends the view's pending updates (`selected` false: only NOTIFY's, see reportsSelected) and
   * NOTIFY's notifications; false when the store is
   * unavailable. Then the updates stay pending (the journal cursor did not move) and go out with a
   * later command: the command's own reply (or IDLE) must not fail for them.
   */
  private async sendUpdates(allowExpunge: boolean, selected = true): Promise<boolean> {
    const view = this.view;
    const notifier = this.notifier;
    if ((!view && !notifier) || this.closed) return true;
    try {
      await this.services.follower.catchUp();
      if (view && selected && view.hasPending()) {
        const lastUid = view.exists > 0 ? (view.uidAt(view.exists) ?? 0) : 0;
        await writeViewUpdates(this, view, allowExpunge);
        await writeNewMessageFetch(this, lastUid);
      }
      if (notifier?.hasPending()) await writeNotifications(this, notifier);
      // Every change of this session's commands has been read from the journal by now.
      notifier?.forgetOwnChanges();
      return true;
    } catch (error) {
      if (!isStoreError(error, 'UNAVAILABLE')) throw error;
      this.log.warn({ err: error }, 'updates deferred: the store is unavailable');
      return false;
    }
  }

  async readLine(): Promise<Buffer | null> {
    await this.releaseOutput(); // the continuation request the client answers
    const item = await this.nextItem('line');
    if (!item) return null;
    // An over-long continuation line comes as an error item: give back an empty line, which no
    // caller accepts (AUTHENTICATE answers BAD), so the session goes on.
    return item.type === 'line' ? item.line : Buffer.alloc(0);
  }

  /**
   * IDLE: waits for the client's next line, sending updates as they come and a keep-alive now
   * and then; ends at idle_max with a BYE-free OK so clients simply re-issue IDLE.
   */
  async idle(): Promise<Buffer | null> {
    await this.releaseOutput(); // "+ idling", and from now on updates go out as they come
    const { idle_keepalive: keepalive, idle_max: max } = this.services.config.imap;
    const keepaliveMs = keepalive * 1000;
    const maxMs = max * 1000;
    const endsAt = Date.now() + maxMs;
    let ended = false;
    // One timer for the keep-alives and the end at idle_max, and no idle timeout meanwhile (the end
    // comes first): thousands of sessions idle at once, each keeping its timers and their closures.
    this.stopIdleTimer();
    let timer: NodeJS.Timeout;
    const wake = () => {
      const left = endsAt - Date.now();
      if (left <= 0) {
        ended = true;
        this.dataWaiter?.();
        return;
      }
      void this.writeRaw(Buffer.from('* OK Still here\r\n'));
      if (left >= keepaliveMs) timer.refresh();
      else timer = setTimeout(wake, left);
    };
    timer = setTimeout(wake, Math.min(keepaliveMs, maxMs));
    // Updates go out as they come: woken by the journal (login's subscriber), a push runs until
    // nothing is left. No task waits between pushes (thousands of sessions idle at once).
    let pushing = false;
    let pushed: Promise<void> = Promise.resolve();
    let retryNow: (() => void) | null = null;
    const pushAll = async () => {
      try {
        // Changes queued while a flush waited for the socket woke nobody: flush until none is left.
        while (!ended && !this.closed && this.hasPushable()) {
          if (await this.sendUpdates(true, this.reportsSelected())) continue;
          // The store is unavailable: try again in a second (or at the next change, or DONE).
          await new Promise<void>((resolve) => {
            const retry = setTimeout(resolve, 1000);
            retryNow = () => {
              clearTimeout(retry);
              resolve();
            };
          });
          retryNow = null;
        }
      } finally {
        pushing = false;
      }
    };
    this.onPushable = () => {
      if (retryNow) return retryNow();
      if (pushing || ended) return;
      pushing = true;
      pushed = pushAll();
    };
    this.registration?.update({ idle: true });
    try {
      await this.sendUpdates(true, this.reportsSelected());
      for (;;) {
        if (this.closed || ended) return null;
        const item = this.framer.next('line');
        if (item?.type === 'line') return item.line;
        if (item) return Buffer.alloc(0); // an over-long line: not DONE, so IDLE answers BAD
        await this.waitForData();
      }
    } finally {
      ended = true;
      this.registration?.update({ idle: false });
      clearTimeout(timer);
      if (!this.closed) this.resetIdleTimer();
      this.onPushable?.(); // ends a wait to retry; starts nothing (ended)
      this.onPushable = null;
      await pushed;
    }
  }

  async startTls(): Promise<void> {
    this.socket.off('data', this.onData);
    this.socket.removeAllListeners('close');
    // Anything the client sent after STARTTLS before the handshake is an injection attempt: drop it.
    this.framer = this.newFramer();
    this.inputPaused = false;
    this.socket.resume();
    const secureSocket = await upgradeToTls(this.socket, this.tls);
    this.socket = secureSocket;
    this.input = secureSocket;
    this.output = secureSocket;
    this.secure = true;
    this.connection.secure = true;
    this.registration?.update({ secure: true, tls: tlsDetails(secureSocket) });
    this.attachSocket(secureSocket);
  }

  startCompression(): void {
    const inflate = zlib.createInflateRaw();
    const deflate = zlib.createDeflateRaw({ level: zlib.constants.Z_DEFAULT_COMPRESSION });
    this.socket.off('data', this.onData);
    this.socket.pipe(inflate);
    inflate.on('data', this.onData);
    if (this.inputPaused) this.socket.resume(); // from now on the inflater is the one paused
    this.inputPaused = false;
    this.input = inflate;
    inflate.on('error', () => this.socket.destroy());
    deflate.pipe(this.socket);
    this.output = deflate;
    this.compressed = true;
  }
}

export function isImapError(error: unknown): error is ImapError {
  return error instanceof ImapError;
}

export type { ParsedCommand };
