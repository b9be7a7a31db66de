/**
 * A raw POP3 client for transcript tests: send lines, read single-line and multi-line replies as
 * bytes (so byte counts, CRLF and dot-stuffing stay visible), upgrade with STLS. Also the few
 * helpers POP3 tests share: a user with an INBOX filled through the store, and undoing
 * dot-stuffing.
 */
import net from 'node:net';
import tls from 'node:tls';
import { expect } from 'vitest';
import type { TestServer } from './server.ts';

export class Pop3Client {
  /** Received bytes not read yet, as they came (joined only when needed: large RETRs stay linear). */
  private chunks: Buffer[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Everything unread as one buffer. */
  private get buffer(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private set buffer(rest: Buffer) {
    this.chunks = rest.length > 0 ? [rest] : [];
  }

  static connect(port: number, secure = false): Promise<Pop3Client> {
    return new Promise((resolve, reject) => {
      const socket = secure
        ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () =>
            resolve(new Pop3Client(socket)),
          )
        : net.connect({ port, host: '127.0.0.1' }, () => resolve(new Pop3Client(socket)));
      socket.once('error', reject);
    });
  }

  /** Connects and reads the greeting. */
  static async open(port: number, secure = false): Promise<Pop3Client> {
    const client = await Pop3Client.connect(port, secure);
    const greeting = await client.readLine();
    if (!greeting.startsWith('+OK')) throw new Error(`unexpected greeting: ${greeting}`);
    return client;
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  private async waitForData(deadline: number, what: string): Promise<void> {
    if (this.closed)
      throw new Error(
        `connection closed while waiting for ${what}; got: ${this.buffer.subarray(0, 500).toString('latin1')}`,
      );
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(
        `timed out waiting for ${what}; got: ${this.buffer.subarray(0, 500).toString('latin1')}`,
      );
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** One line without its CRLF, as a latin1 string. */
  async readLine(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end !== -1) {
        const line = this.buffer.subarray(0, end).toString('latin1');
        this.buffer = this.buffer.subarray(end + 2);
        return line;
      }
      await this.waitForData(deadline, 'a line');
    }
  }

  /** The body of a multi-line reply, as sent (still dot-stuffed), through the CRLF before ".". */
  async readMultiline(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    const terminator = Buffer.from('\r\n.\r\n');
    // Search chunk by chunk, each with the end of the one before (a virtual CRLF before the first,
    // so an empty body "." is found too): linear in the size of the reply.
    let searched = 0;
    let offset = 0;
    for (;;) {
      for (; searched < this.chunks.length; searched++) {
        const chunk = this.chunks[searched]!;
        const before = searched === 0 ? Buffer.from('\r\n') : this.chunks[searched - 1]!.subarray(-4);
        const index = Buffer.concat([before, chunk]).indexOf(terminator);
        if (index !== -1) {
          const start = offset - before.length + index; // where "\r\n.\r\n" starts (-2: empty body)
          const all = this.buffer;
          this.buffer = all.subarray(start + 5);
          return Buffer.from(all.subarray(0, Math.max(0, start + 2)));
        }
        offset += chunk.length;
      }
      await this.waitForData(deadline, 'the end of a multi-line reply');
    }
  }

  /** Sends a command and returns its status line. */
  async command(line: string, timeoutMs?: number): Promise<string> {
    this.send(`${line}\r\n`);
    return this.readLine(timeoutMs);
  }

  /** Sends a command; on +OK also reads the multi-line body (dot-stuffing undone). */
  async multiline(
    line: string,
    timeoutMs?: number,
  ): Promise<{ status: string; body: Buffer; lines: string[] }> {
    const status = await this.command(line, timeoutMs);
    if (!status.startsWith('+OK')) return { status, body: Buffer.alloc(0), lines: [] };
    const body = unstuff(await this.readMultiline(timeoutMs));
    const text = body.toString('latin1');
    return { status, body, lines: text === '' ? [] : text.replace(/\r\n$/, '').split('\r\n') };
  }

  async login(username: string, password: string): Promise<void> {
    const user = await this.command(`USER ${username}`);
    const pass = await this.command(`PASS ${password}`);
    if (!user.startsWith('+OK') || !pass.startsWith('+OK'))
      throw new Error(`login failed: ${user} / ${pass}`);
  }

  /** Upgrades this client to TLS (after STLS's +OK). */
  async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const socket = tls.connect({ socket: plain, rejectUnauthorized: false }, () => resolve(socket));
      socket.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the connection to close');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Bytes received and not read yet. */
  pending(): Buffer {
    return this.buffer;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Undoes dot-stuffing of a multi-line body (a line starting ".." loses its first "."). */
export function unstuff(body: Buffer): Buffer {
  const text = body.toString('latin1');
  return Buffer.from(text.replace(/(^|\r\n)\.\./g, '$1.'), 'latin1');
}

let accounts = 0;

export interface Pop3Account {
  userId: string;
  username: string;
  password: string;
  inboxId: string;
}

/** A new user of its own with these messages in the INBOX (appended through the store). */
export async function pop3Account(server: TestServer, messages: Buffer[] = []): Promise<Pop3Account> {
  const username = `pop${++accounts}-${process.pid}@example.test`;
  const password = 'secret pass';
  const userId = await server.addUser(username, password);
  const inbox = (await server.server.store.getMailbox(userId, 'INBOX'))!;
  for (const message of messages) await server.server.store.append(inbox.id, message);
  return { userId, username, password, inboxId: inbox.id };
}

/** A plain CRLF message with a subject and some body lines. */
export function message(subject: string, body = 'Hello.\r\n'): Buffer {
  return Buffer.from(
    `From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: ${subject}\r\n\r\n${body}`,
  );
}

/**
 * Message `index` of a real-client maildrop test: varied sizes (some large), bare-LF ones, dot
 * lines, 8-bit bytes, one without a final line end, each with its own Message-ID.
 */
export function maildropMessage(index: number): Buffer {
  const eol = index % 7 === 3 ? '\n' : '\r\n';
  const lines = [
    `From: sender${index}@example.test`,
    'To: rcpt@example.test',
    `Subject: message ${index}`,
    `Message-ID: <${index}.maildrop@example.test>`,
    'Content-Type: text/plain; charset=iso-8859-1',
    '',
    `Body of message ${index}.`,
  ];
  if (index % 5 === 0) lines.push('.', '..', '.leading dot', '');
  if (index % 11 === 0) lines.push('caf\xe9 na\xefve \xff');
  const filler = (index * 7919) % (index % 50 === 0 ? 200_000 : 3000);
  for (let written = 0; written < filler; written += 61)
    lines.push(`${String(index).padStart(5, '0')} ${'y'.repeat(54)}`);
  lines.push(index % 13 === 0 ? 'no final newline' : `end of ${index}${eol}`);
  return Buffer.from(lines.join(eol), 'latin1');
}

/** A message as a POP3 client receives it: CRLF line ends, a final line end added. */
export function asFetched(raw: Buffer): Buffer {
  const text = raw.toString('latin1').replace(/\r?\n/g, '\r\n');
  return Buffer.from(text.endsWith('\r\n') ? text : `${text}\r\n`, 'latin1');
}

/** Fetched messages by Message-ID (without brackets); each must have one and come once. */
export function byMessageId(files: Buffer[]): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (const file of files) {
    const id = /^Message-ID: <([^>]+)>/im.exec(file.toString('latin1'))?.[1];
    expect(id, 'every fetched message has its Message-ID').toBeDefined();
    expect(map.has(id!), `message ${id} fetched once`).toBe(false);
    map.set(id!, file);
  }
  return map;
}
