/**
 * A raw ManageSieve client for transcript tests: send lines (and literals), read whole responses —
 * every line up to the final OK, NO or BYE, with literals `{n}` read by their byte count so a
 * script's own lines are never mistaken for the end. Responses are kept as text (UTF-8) so
 * transcripts read like the RFC's.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface Response {
  /** Everything received, up to and including the final line. */
  text: string;
  /** The final line: OK / NO / BYE ... */
  status: string;
}

export class SieveClient {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
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

  static connect(port: number): Promise<SieveClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(new SieveClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Connects and reads the greeting (the capabilities and OK). */
  static async open(port: number): Promise<{ client: SieveClient; greeting: Response }> {
    const client = await SieveClient.connect(port);
    return { client, greeting: await client.response() };
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends one command line (CRLF added) and reads its response. */
  async command(line: string, timeoutMs?: number): Promise<Response> {
    this.send(`${line}\r\n`);
    return this.response(timeoutMs);
  }

  /** Reads one response: lines (and literals) through the first OK / NO / BYE line. */
  async response(timeoutMs = 10_000): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.complete();
      if (found !== null) {
        const text = this.buffer.subarray(0, found.end).toString('utf8');
        this.buffer = this.buffer.subarray(found.end);
        return { text, status: found.status };
      }
      if (this.closed) throw new Error(`closed while waiting for a response; got: ${this.buffer.toString()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a response; got: ${this.buffer.toString()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Reads one line (a SASL challenge), without its CRLF. */
  async line(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end !== -1) {
        const line = this.buffer.subarray(0, end).toString('utf8');
        this.buffer = this.buffer.subarray(end + 2);
        return line;
      }
      if (this.closed || Date.now() > deadline) throw new Error(`no line; got: ${this.buffer.toString()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Where the first complete response ends, or null. */
  private complete(): { end: number; status: string } | null {
    let at = 0;
    for (;;) {
      const end = this.buffer.indexOf('\r\n', at);
      if (end === -1) return null;
      const line = this.buffer.subarray(at, end).toString('utf8');
      const literal = /\{(\d+)\}$/.exec(line);
      if (literal) {
        at = end + 2 + Number(literal[1]);
        if (at > this.buffer.length) return null;
        continue;
      }
      if (/^(OK|NO|BYE)\b/.test(line)) return { end: end + 2, status: line };
      at = end + 2;
    }
  }

  /** Upgrades to TLS after a STARTTLS OK. */
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

  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** AUTHENTICATE "PLAIN" with an initial response. */
export function plainLogin(username: string, password: string): string {
  return `AUTHENTICATE "PLAIN" "${Buffer.from(`\0${username}\0${password}`).toString('base64')}"`;
}
