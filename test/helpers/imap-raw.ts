/**
 * A small raw IMAP client for the oracle and real-client tests: it speaks to any IMAP server (Mallard
 * or Dovecot) byte for byte, reads responses with their literals, and parses them into a neutral
 * tree so two servers' answers can be compared whatever their choice between quoted strings and
 * literals. Nothing is normalised here: that is the test's decision.
 */
import net from 'node:net';
import tls from 'node:tls';

/** A parsed IMAP value: NIL, an atom (number or word), a string (quoted or literal), or a list. */
export type ImapValue = null | { atom: string } | Buffer | ImapValue[];

/** One response: its raw bytes (literals included) and, for `*` lines, the parsed tokens. */
export interface RawResponse {
  raw: Buffer;
  /** The first line, without literals, as latin1 text. */
  text: string;
}

export interface CommandResult {
  status: 'OK' | 'NO' | 'BAD';
  /** The tagged line's text after the status. */
  text: string;
  /** The untagged responses before the tagged one, in order. */
  untagged: RawResponse[];
}

export class RawImap {
  private buffer: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private closed = false;
  private tagCounter = 0;
  greeting = '';

  private constructor(private socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** `localAddress`: another loopback address (127.0.0.2, …) to be a client of its own. */
  static async connect(
    port: number,
    { secure = false, host = '127.0.0.1', localAddress = undefined as string | undefined } = {},
  ): Promise<RawImap> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s: net.Socket = secure
        ? tls.connect({ port, host, rejectUnauthorized: false }, () => resolve(s))
        : net.connect({ port, host, localAddress }, () => resolve(s));
      s.once('error', reject);
    });
    const client = new RawImap(socket);
    client.greeting = (await client.readResponse()).text;
    return client;
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private async waitForData(deadline: number): Promise<void> {
    if (this.closed) throw new Error(`connection closed; unread: ${this.buffer.toString('latin1')}`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out; unread: ${this.buffer.toString('latin1').slice(0, 2000)}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Reads one whole response (a line and the literals it announces). */
  async readResponse(timeoutMs = 10_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    let scanned = 0;
    for (;;) {
      const lineEnd = this.buffer.indexOf('\r\n', scanned, 'latin1');
      if (lineEnd < 0) {
        await this.waitForData(deadline);
        continue;
      }
      const line = this.buffer.subarray(scanned, lineEnd).toString('latin1');
      const literal = /\{(\d+)\+?\}$/.exec(line);
      if (literal) {
        const needed = lineEnd + 2 + Number(literal[1]);
        if (this.buffer.length < needed) {
          await this.waitForData(deadline);
          continue;
        }
        scanned = needed;
        continue;
      }
      const raw = Buffer.from(this.buffer.subarray(0, lineEnd + 2));
      this.buffer = this.buffer.subarray(lineEnd + 2);
      const firstEnd = raw.indexOf('\r\n', 0, 'latin1');
      return { raw, text: raw.subarray(0, firstEnd).toString('latin1') };
    }
  }

  nextTag(): string {
    return `t${++this.tagCounter}`;
  }

  /** Sends raw bytes (for IDLE's DONE, or literal data). */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Reads responses up to the tagged one of `tag`. */
  async readTagged(tag: string, timeoutMs = 30_000): Promise<CommandResult> {
    const untagged: RawResponse[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.readResponse(Math.max(1, deadline - Date.now()));
      if (response.text.startsWith(`${tag} `)) {
        const match = /^\S+ (OK|NO|BAD) ?(.*)$/.exec(response.text);
        if (!match) throw new Error(`bad tagged line: ${response.text}`);
        return { status: match[1] as CommandResult['status'], text: match[2]!, untagged };
      }
      untagged.push(response);
    }
  }

  /**
   * Sends a command. `parts` alternate text and literals: each Buffer is sent as a synchronising
   * literal (waiting for the continuation request), so the client works on any IMAP4rev1 server.
   */
  async command(...parts: Array<string | Buffer>): Promise<CommandResult> {
    const tag = this.nextTag();
    let pending = `${tag} `;
    for (const part of parts) {
      if (typeof part === 'string') {
        pending += part;
        continue;
      }
      this.write(Buffer.from(`${pending}{${part.length}}\r\n`, 'latin1'));
      pending = '';
      const reply = await this.readResponse();
      if (!reply.text.startsWith('+')) {
        // The server refused the literal: the tagged answer has come instead.
        const match = /^\S+ (OK|NO|BAD) ?(.*)$/.exec(reply.text);
        return {
          status: (match?.[1] ?? 'BAD') as CommandResult['status'],
          text: match?.[2] ?? reply.text,
          untagged: [],
        };
      }
      this.write(part);
    }
    this.write(Buffer.from(`${pending}\r\n`, 'latin1'));
    return this.readTagged(tag);
  }

  /** Like `command`, but throws unless the answer is OK. */
  async ok(...parts: Array<string | Buffer>): Promise<CommandResult> {
    const result = await this.command(...parts);
    if (result.status !== 'OK') {
      const shown = parts.map((p) => (typeof p === 'string' ? p : `{${p.length}}`)).join('');
      throw new Error(`${shown} -> ${result.status} ${result.text}`);
    }
    return result;
  }

  async login(user: string, password: string): Promise<void> {
    await this.ok(`LOGIN ${quote(user)} ${quote(password)}`);
  }

  /** APPEND with a synchronising literal; returns the tagged result. */
  append(mailbox: string, raw: Buffer, flags: string[] = [], date?: string): Promise<CommandResult> {
    const flagText = flags.length > 0 ? ` (${flags.join(' ')})` : '';
    const dateText = date ? ` ${quote(date)}` : '';
    return this.command(`APPEND ${quote(mailbox)}${flagText}${dateText} `, raw);
  }

  async logout(): Promise<void> {
    if (this.closed) return;
    try {
      await this.command('LOGOUT');
    } catch {
      // The server may close before we read the tagged OK.
    }
    this.close();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A quoted string (or a literal-free atom form) for a command argument. */
export function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

// --- parsing --------------------------------------------------------------------------------------

/** Values that came as literal8 `~{n}` (rendered with a leading `~`). */
const LITERAL8 = new WeakSet<Buffer>();

const SPECIAL = new Set([0x20, 0x28, 0x29, 0x0d, 0x0a]);

/** Parses the tokens of a response (after the leading `*`), literals included. */
export function parseResponse(raw: Buffer): ImapValue[] {
  const state = { pos: 0 };
  const out: ImapValue[] = [];
  skipSpaces(raw, state);
  while (state.pos < raw.length) {
    if (raw[state.pos] === 0x0d && raw[state.pos + 1] === 0x0a) break;
    out.push(parseValue(raw, state));
    skipSpaces(raw, state);
  }
  return out;
}

function skipSpaces(raw: Buffer, state: { pos: number }): void {
  while (raw[state.pos] === 0x20) state.pos++;
}

function parseValue(raw: Buffer, state: { pos: number }): ImapValue {
  const c = raw[state.pos];
  if (c === 0x28) {
    state.pos++;
    const list: ImapValue[] = [];
    for (;;) {
      skipSpaces(raw, state);
      if (state.pos >= raw.length) throw new Error('unterminated list');
      if (raw[state.pos] === 0x29) {
        state.pos++;
        return list;
      }
      list.push(parseValue(raw, state));
    }
  }
  if (c === 0x22) {
    state.pos++;
    const bytes: number[] = [];
    while (state.pos < raw.length && raw[state.pos] !== 0x22) {
      if (raw[state.pos] === 0x5c) state.pos++;
      bytes.push(raw[state.pos]!);
      state.pos++;
    }
    state.pos++;
    return Buffer.from(bytes);
  }
  if (c === 0x7e && raw[state.pos + 1] === 0x7b) {
    // literal8 (RFC 3516): the same bytes, remembered as such so comparisons see the form.
    state.pos++;
    const value = parseValue(raw, state) as Buffer;
    LITERAL8.add(value);
    return value;
  }
  if (c === 0x7b) {
    const close = raw.indexOf('}', state.pos, 'latin1');
    const length = Number(
      raw
        .subarray(state.pos + 1, close)
        .toString('latin1')
        .replace('+', ''),
    );
    const start = close + 3; // "}\r\n"
    state.pos = start + length;
    return Buffer.from(raw.subarray(start, start + length));
  }
  // An atom; brackets (BODY[HEADER.FIELDS (A B)]) and partial origins (<0>) stay inside it.
  const start = state.pos;
  let depth = 0;
  while (state.pos < raw.length) {
    const b = raw[state.pos]!;
    if (b === 0x5b) depth++;
    else if (b === 0x5d) depth--;
    else if (depth === 0 && SPECIAL.has(b)) break;
    state.pos++;
  }
  const atom = raw.subarray(start, state.pos).toString('latin1');
  if (atom === 'NIL') return null;
  return { atom };
}

/** A FETCH response's items by upper-cased name, with its sequence number. */
export interface FetchData {
  seq: number;
  items: Map<string, ImapValue>;
}

/** The FETCH responses among untagged ones. */
export function fetchResponses(untagged: RawResponse[]): FetchData[] {
  const out: FetchData[] = [];
  for (const response of untagged) {
    if (!/^\* \d+ FETCH /i.test(response.text)) continue;
    const tokens = parseResponse(response.raw.subarray(2));
    const seq = Number((tokens[0] as { atom: string }).atom);
    const list = tokens[2] as ImapValue[];
    const items = new Map<string, ImapValue>();
    for (let i = 0; i + 1 < list.length; i += 2) {
      items.set((list[i] as { atom: string }).atom.toUpperCase(), list[i + 1]!);
    }
    out.push({ seq, items });
  }
  return out;
}

/** The numbers of a `* SEARCH` response (empty when none). */
export function searchResult(untagged: RawResponse[]): number[] {
  const line = untagged.find((r) => /^\* SEARCH\b/i.test(r.text));
  if (!line) return [];
  return line.text
    .replace(/^\* SEARCH\s*/i, '')
    .replace(/\(MODSEQ \d+\)/i, '')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}

/**
 * A neutral rendering of a value for comparison: strings and literals alike as JSON strings of their
 * latin1 bytes (a literal8 with a leading `~`), atoms bare, NIL as NIL.
 */
export function renderValue(value: ImapValue): string {
  if (value === null) return 'NIL';
  if (Buffer.isBuffer(value))
    return `${LITERAL8.has(value) ? '~' : ''}${JSON.stringify(value.toString('latin1'))}`;
  if (Array.isArray(value)) return `(${value.map(renderValue).join(' ')})`;
  return value.atom;
}
