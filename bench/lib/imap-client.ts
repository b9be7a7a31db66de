/**
 * A small raw IMAP client for the benchmarks: one socket, tagged commands (pipelined when the caller
 * does not await them one by one), responses with literals, LITERAL+ or synchronising literals, IDLE.
 * It understands only framing (lines, `{n}` literals, tags); callers read the response text. The same
 * client drives Mallard and Dovecot, so its own overhead is the same on both sides.
 */
import net from 'node:net';

/** One response: the tag (`*`, `+` or a command tag), its text and the literals it carried. */
export interface ImapResponse {
  tag: string;
  /** The whole response without the final CRLF; each literal is shown by its `{n}` marker only. */
  text: string;
  /** Literal contents, when the command kept them (empty buffers otherwise). */
  literals: Buffer[];
  /** Literal sizes in bytes, always recorded. */
  literalSizes: number[];
}

export interface CommandResult {
  status: 'OK' | 'NO' | 'BAD';
  tagged: ImapResponse;
  /** Untagged responses received while this command was the oldest one outstanding (when collected). */
  untagged: ImapResponse[];
  /** Total literal bytes in the untagged responses of this command. */
  literalBytes: number;
}

/** A command part: text as it is, or a Buffer sent as a literal. */
export type CommandPart = string | Buffer;

export interface CommandOptions {
  /** Default 60 s. On timeout the connection is destroyed, since its state is unknown. */
  timeoutMs?: number;
  /** Keep untagged responses in the result (default true). */
  collect?: boolean;
  /** Keep literal bytes (default true); when false only their sizes are recorded. */
  keepLiterals?: boolean;
  onUntagged?: (response: ImapResponse) => void;
}

export interface ConnectOptions {
  port: number;
  host?: string;
  /** Connect + greeting timeout, default 10 s. */
  timeoutMs?: number;
}

interface Pending {
  tag: string;
  options: CommandOptions;
  untagged: ImapResponse[];
  literalBytes: number;
  resolve(result: CommandResult): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

interface ContinuationWaiter {
  resolve(response: ImapResponse): void;
  reject(error: Error): void;
}

/** Longest response line (without literals) the client accepts before giving up on the connection. */
const MAX_LINE = 4 * 1024 * 1024;

/** Quotes a string for IMAP (`"` and `\` escaped). */
export function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export class ImapError extends Error {
  constructor(
    message: string,
    readonly result?: CommandResult,
  ) {
    super(message);
  }
}

/** Throws unless the command completed with OK. */
export function expectOk(result: CommandResult, what: string): CommandResult {
  if (result.status !== 'OK') throw new ImapError(`${what}: ${result.tagged.text}`, result);
  return result;
}

export class ImapClient {
  greeting = '';
  /** From the greeting's or CAPABILITY's response, upper-cased. */
  capabilities = new Set<string>();
  /** Set once the socket is closed; the reason when it was not a clean close. */
  closed = false;
  closeReason: Error | undefined;
  /** Untagged responses that arrived while no command was outstanding (e.g. a BYE). */
  readonly orphans: ImapResponse[] = [];

  private readonly socket: net.Socket;
  private tagCounter = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly continuations: ContinuationWaiter[] = [];
  private writeChain: Promise<void> = Promise.resolve();

  // Parser state.
  private lineParts: Buffer[] = [];
  private lineLength = 0;
  private segments: string[] = [];
  private literals: Buffer[] = [];
  private literalSizes: number[] = [];
  private inLiteral = false;
  private literalRemaining = 0;
  private literalDeclared = 0;
  private literalChunks: Buffer[] = [];
  private keepCurrentLiteral = true;
  private greetingWaiter: ContinuationWaiter | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.onData(chunk);
      } catch (error) {
        this.destroy(error as Error);
      }
    });
    socket.on('error', (error) => this.failAll(error));
    socket.on('close', () => this.failAll(new Error('connection closed by the server')));
  }

  static connect(options: ConnectOptions): Promise<ImapClient> {
    const host = options.host ?? '127.0.0.1';
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port: options.port, host });
      const client = new ImapClient(socket);
      const timer = setTimeout(() => {
        client.destroy(new Error(`no greeting from ${host}:${options.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      client.greetingWaiter = {
        resolve(response) {
          clearTimeout(timer);
          client.greeting = response.text;
          client.readCapabilities(response.text);
          if (/^\* (OK|PREAUTH)\b/i.test(response.text)) resolve(client);
          else {
            client.destroy();
            reject(new ImapError(`refused: ${response.text}`));
          }
        },
        reject(error) {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  /** Sends a command and resolves with its completion (NO and BAD resolve too: see expectOk). */
  command(parts: CommandPart | CommandPart[], options: CommandOptions = {}): Promise<CommandResult> {
    const list = Array.isArray(parts) ? parts : [parts];
    const tag = `A${++this.tagCounter}`;
    if (this.closed) return Promise.reject(this.closeReason ?? new Error('connection closed'));
    const result = new Promise<CommandResult>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 60_000;
      const entry: Pending = {
        tag,
        options,
        untagged: [],
        literalBytes: 0,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.pending.delete(tag);
          reject(new Error(`${describe(list)}: no completion within ${timeoutMs} ms`));
          this.destroy(new Error(`command ${tag} timed out`));
        }, timeoutMs),
      };
      this.pending.set(tag, entry);
    });
    const literalPlus = this.capabilities.has('LITERAL+');
    this.writeChain = this.writeChain
      .then(() => this.writeCommand(tag, list, literalPlus))
      .catch((error: Error) => {
        const entry = this.pending.get(tag);
        if (entry) this.settle(entry, error);
      });
    return result;
  }

  /** CAPABILITY, refreshing `capabilities`. */
  async refreshCapabilities(): Promise<void> {
    const result = expectOk(await this.command('CAPABILITY'), 'CAPABILITY');
    for (const response of result.untagged) this.readCapabilities(response.text);
  }

  async login(user: string, password: string): Promise<CommandResult> {
    const result = expectOk(await this.command(`LOGIN ${quote(user)} ${quote(password)}`), 'LOGIN');
    this.readCapabilities(result.tagged.text);
    return result;
  }

  /** Starts IDLE; resolves once the server has sent its continuation. Call `done()` to end it. */
  /** IDLE until done(); `onUntagged` sees what the server pushes meanwhile. */
  async idle(
    timeoutMs = 30_000,
    onUntagged?: (response: ImapResponse) => void,
  ): Promise<{ done(): Promise<CommandResult> }> {
    const completion = this.command('IDLE', { timeoutMs: 24 * 3600_000, collect: false, onUntagged });
    completion.catch(() => undefined); // reported through done() or the continuation wait
    await this.waitContinuation(timeoutMs);
    return {
      done: async () => {
        await this.write(Buffer.from('DONE\r\n'));
        return withTimeout(completion, timeoutMs, 'IDLE DONE');
      },
    };
  }

  /** LOGOUT and close; never throws (a server that has already gone is fine). */
  async logout(timeoutMs = 10_000): Promise<void> {
    if (!this.closed) {
      try {
        await this.command('LOGOUT', { timeoutMs });
      } catch {
        // closed already
      }
    }
    this.destroy();
  }

  destroy(reason?: Error): void {
    if (reason) this.closeReason ??= reason;
    this.socket.destroy();
    this.failAll(reason ?? new Error('connection closed by the client'));
  }

  /** Waits until everything written so far has been handed to the socket. */
  flushed(): Promise<void> {
    return this.writeChain;
  }

  private readCapabilities(text: string): void {
    const match = /\bCAPABILITY ([^\]]*)/i.exec(text);
    if (!match) return;
    this.capabilities = new Set(match[1]!.trim().toUpperCase().split(/\s+/));
  }

  private async writeCommand(tag: string, parts: CommandPart[], literalPlus: boolean): Promise<void> {
    let text = `${tag} `;
    for (const part of parts) {
      if (typeof part === 'string') {
        text += part;
        continue;
      }
      if (literalPlus) {
        await this.write(Buffer.concat([Buffer.from(`${text}{${part.length}+}\r\n`), part]));
      } else {
        await this.write(Buffer.from(`${text}{${part.length}}\r\n`));
        const go = await this.waitContinuation(30_000);
        if (go.tag !== '+') throw new ImapError(`literal refused: ${go.text}`);
        await this.write(part);
      }
      text = '';
    }
    await this.write(Buffer.from(`${text}\r\n`));
  }

  private write(data: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(this.closeReason ?? new Error('connection closed'));
    if (this.socket.write(data)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.socket.off('drain', onDrain);
        reject(this.closeReason ?? new Error('connection closed while writing'));
      };
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  private waitContinuation(timeoutMs: number): Promise<ImapResponse> {
    return withTimeout(
      new Promise<ImapResponse>((resolve, reject) => this.continuations.push({ resolve, reject })),
      timeoutMs,
      'continuation request',
    );
  }

  private onData(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.inLiteral) {
        const take = Math.min(this.literalRemaining, chunk.length - offset);
        if (this.keepCurrentLiteral) this.literalChunks.push(chunk.subarray(offset, offset + take));
        this.literalRemaining -= take;
        offset += take;
        if (this.literalRemaining === 0) this.endLiteral();
        continue;
      }
      const newline = chunk.indexOf(10, offset);
      if (newline < 0) {
        this.lineParts.push(chunk.subarray(offset));
        this.lineLength += chunk.length - offset;
        if (this.lineLength > MAX_LINE) throw new Error(`response line longer than ${MAX_LINE} bytes`);
        return;
      }
      let line = chunk.subarray(offset, newline + 1);
      if (this.lineParts.length > 0) {
        this.lineParts.push(line);
        line = Buffer.concat(this.lineParts);
        this.lineParts = [];
        this.lineLength = 0;
      }
      offset = newline + 1;
      this.onLine(line);
    }
  }

  private onLine(raw: Buffer): void {
    const end = raw.length >= 2 && raw[raw.length - 2] === 13 ? raw.length - 2 : raw.length - 1;
    const text = raw.toString('utf8', 0, end);
    this.segments.push(text);
    if (text.endsWith('}')) {
      const match = /\{(\d+)\+?\}$/.exec(text);
      if (match) {
        this.literalRemaining = this.literalDeclared = Number(match[1]);
        this.inLiteral = true;
        this.keepCurrentLiteral = this.head()?.options.keepLiterals ?? true;
        if (this.literalRemaining === 0) this.endLiteral();
        return;
      }
    }
    const full = this.segments.length === 1 ? text : this.segments.join('');
    const response: ImapResponse = {
      tag: full.slice(0, Math.max(0, full.indexOf(' '))) || full,
      text: full,
      literals: this.literals,
      literalSizes: this.literalSizes,
    };
    this.segments = [];
    this.literals = [];
    this.literalSizes = [];
    this.dispatch(response);
  }

  private endLiteral(): void {
    const size = this.literalDeclared;
    this.literals.push(this.keepCurrentLiteral ? Buffer.concat(this.literalChunks, size) : Buffer.alloc(0));
    this.literalSizes.push(size);
    this.literalChunks = [];
    this.inLiteral = false;
  }

  private head(): Pending | undefined {
    return this.pending.values().next().value;
  }

  private dispatch(response: ImapResponse): void {
    if (this.greetingWaiter) {
      const waiter = this.greetingWaiter;
      this.greetingWaiter = undefined;
      waiter.resolve(response);
      return;
    }
    if (response.tag === '+') {
      const waiter = this.continuations.shift();
      if (waiter) waiter.resolve(response);
      else this.orphans.push(response);
      return;
    }
    if (response.tag === '*') {
      const head = this.head();
      if (!head) {
        this.orphans.push(response);
        return;
      }
      head.literalBytes += response.literalSizes.reduce((sum, size) => sum + size, 0);
      head.options.onUntagged?.(response);
      if (head.options.collect ?? true) head.untagged.push(response);
      return;
    }
    const entry = this.pending.get(response.tag);
    if (!entry) {
      this.orphans.push(response);
      return;
    }
    const status = /^\S+ (OK|NO|BAD)\b/i.exec(response.text)?.[1]?.toUpperCase();
    if (!status) {
      this.settle(entry, new ImapError(`unexpected tagged response: ${response.text}`));
      return;
    }
    this.settle(entry, {
      status: status as CommandResult['status'],
      tagged: response,
      untagged: entry.untagged,
      literalBytes: entry.literalBytes,
    });
  }

  private settle(entry: Pending, outcome: CommandResult | Error): void {
    clearTimeout(entry.timer);
    this.pending.delete(entry.tag);
    if (outcome instanceof Error) entry.reject(outcome);
    else entry.resolve(outcome);
  }

  private failAll(error: Error): void {
    this.closed = true;
    this.closeReason ??= error;
    const bye = this.orphans.find((response) => /^\* BYE\b/i.test(response.text));
    const reason = bye ? new Error(`${error.message} (${bye.text})`) : error;
    if (this.greetingWaiter) {
      this.greetingWaiter.reject(reason);
      this.greetingWaiter = undefined;
    }
    for (const waiter of this.continuations.splice(0)) waiter.reject(reason);
    for (const entry of [...this.pending.values()]) this.settle(entry, reason);
  }
}

function describe(parts: CommandPart[]): string {
  const first = parts.find((part): part is string => typeof part === 'string') ?? '';
  return first.split(' ')[0] || 'command';
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
