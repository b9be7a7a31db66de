/**
 * Server goodbyes reach the client on every transport: LOGOUT's `* BYE` and tagged OK, and a kick's
 * `* BYE`, must be flushed through TLS (port 993 and STARTTLS) and COMPRESS=DEFLATE before the socket
 * closes (RFC 3501 §6.1.3). mbsync reports "unexpected EOF" and GUI clients never see a goodbye when
 * the last bytes are cut.
 */
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('bye@example.test', 'bye pass');
});
afterAll(() => server.stop());

type Transport = 'plain' | 'implicit-tls' | 'starttls';

/** A raw client that can switch to TLS and to DEFLATE, collecting everything the server sends until it closes. */
class GoodbyeClient {
  text = '';
  closed = false;
  private deflate: zlib.DeflateRaw | null = null;
  private waiters: Array<() => void> = [];

  private constructor(private socket: net.Socket) {
    this.listen(socket, (chunk) => this.take(chunk));
  }

  static async open(transport: Transport): Promise<GoodbyeClient> {
    const port = transport === 'implicit-tls' ? server.imapsPort : server.imapPort;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s: net.Socket =
        transport === 'implicit-tls'
          ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(s))
          : net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
      s.once('error', reject);
    });
    const client = new GoodbyeClient(socket);
    await client.waitFor(/^\* OK /m);
    if (transport === 'starttls') {
      await client.command('s1', 'STARTTLS');
      await client.upgrade();
    }
    await client.command('l1', 'LOGIN bye@example.test "bye pass"');
    return client;
  }

  /** Set while compressed: the socket's close waits for the inflater to hand over the last bytes. */
  private inflate: zlib.InflateRaw | null = null;

  private listen(socket: net.Socket, onData: (chunk: Buffer) => void): void {
    socket.on('data', onData);
    socket.on('close', () => {
      if (this.inflate) {
        // zlib works asynchronously: the final block is decompressed after the socket closed.
        this.inflate.once('close', () => this.markClosed());
        this.inflate.end();
      } else {
        this.markClosed();
      }
    });
    socket.on('error', () => {});
  }

  private markClosed(): void {
    this.closed = true;
    this.wake();
  }

  private take(chunk: Buffer): void {
    this.text += chunk.toString('latin1');
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  async waitFor(pattern: RegExp): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!pattern.test(this.text)) {
      if (this.closed) throw new Error(`closed before ${pattern}; got: ${this.text}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; got: ${this.text}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async waitForClose(): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`not closed; got: ${this.text}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  send(line: string): void {
    if (this.deflate) {
      this.deflate.write(line);
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    } else {
      this.socket.write(line);
    }
  }

  async command(tag: string, command: string): Promise<void> {
    this.send(`${tag} ${command}\r\n`);
    await this.waitFor(new RegExp(`^${tag} OK`, 'm'));
  }

  private async upgrade(): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: this.socket, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure, (chunk) => this.take(chunk));
  }

  async compress(): Promise<void> {
    await this.command('c1', 'COMPRESS DEFLATE');
    this.text = '';
    const inflate = zlib.createInflateRaw();
    inflate.on('data', (chunk: Buffer) => this.take(chunk));
    inflate.on('error', () => {});
    this.inflate = inflate;
    this.socket.removeAllListeners('data');
    this.socket.on('data', (chunk: Buffer) => inflate.write(chunk));
    this.deflate = zlib.createDeflateRaw();
    this.deflate.pipe(this.socket);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const cases: Array<[Transport, boolean]> = [
  ['plain', false],
  ['implicit-tls', false],
  ['starttls', false],
  ['plain', true],
  ['implicit-tls', true],
  ['starttls', true],
];

describe.each(cases)('goodbyes over %s (compressed: %s)', (transport, compressed) => {
  it('LOGOUT answers BYE then the tagged OK, then the server closes', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const client = await GoodbyeClient.open(transport);
      if (compressed) await client.compress();
      client.send('x1 LOGOUT\r\n');
      await client.waitForClose();
      expect(client.text).toMatch(/^\* BYE .*\r\nx1 OK LOGOUT completed\r\n$/m);
    }
  });

  it('a kick from the administrator arrives as BYE', async () => {
    const client = await GoodbyeClient.open(transport);
    if (compressed) await client.compress();
    await client.command('n1', 'NOOP');
    const ids = server.server.sessions.list().filter((s) => s.user === 'bye@example.test');
    expect(ids.length).toBeGreaterThan(0);
    await Promise.all(ids.map((s) => server.server.sessions.kick(s.id, 'Kicked for the test')));
    await client.waitForClose();
    expect(client.text).toMatch(/^\* BYE Kicked for the test\r\n$/m);
  });
});
