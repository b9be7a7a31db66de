/**
 * Starts a real Mallard server (real store on a temp data dir, real TCP and TLS on free loopback
 * ports) for protocol tests, plus a raw line client for transcript tests.
 */
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { hashPassword } from '../../server/auth/password.ts';
import { loadConfig } from '../../server/config/load.ts';
import type { Config } from '../../server/config/schema.ts';
import { createLogger } from '../../server/log.ts';
import { startServer, type RunningServer } from '../../server/main.ts';
import { makeDataDir } from './cli.ts';

export interface TestServer {
  server: RunningServer;
  config: Config;
  imapPort: number;
  imapsPort: number;
  pop3Port: number;
  pop3sPort: number;
  lmtpPort: number;
  smtpPort: number;
  managesievePort: number;
  stop(): Promise<void>;
  addUser(username: string, password: string, quotaBytes?: number): Promise<string>;
}

export async function startTestServer(env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const dataDir = makeDataDir();
  const config = loadConfig({
    env: {
      MALLARD_DATA_DIR: dataDir,
      MALLARD_IMAP_HOST: '127.0.0.1',
      MALLARD_POP3_HOST: '127.0.0.1',
      MALLARD_SMTP_HOST: '127.0.0.1',
      MALLARD_SUBMISSION_HOST: '127.0.0.1',
      MALLARD_MANAGESIEVE_HOST: '127.0.0.1',
      MALLARD_WEB_HOST: '127.0.0.1',
      // Mail for other domains is never looked up outside the machine (nothing answers there).
      MALLARD_DNS_SERVERS: '127.0.0.1:9',
      MALLARD_HOSTNAME: 'localhost',
      ...env,
    },
  });
  const logger = createLogger(process.env.MALLARD_TEST_LOG ?? 'silent', process.stderr);
  const server = await startServer(config, { ephemeralPorts: true, logger });
  const port = (tlsWanted: boolean) =>
    server.imap.listeners.find((l) => l.implicitTls === tlsWanted)?.port ?? 0;
  return {
    server,
    config,
    imapPort: port(false),
    imapsPort: port(true),
    pop3Port: server.pop3.listeners.find((l) => !l.implicitTls)?.port ?? 0,
    pop3sPort: server.pop3.listeners.find((l) => l.implicitTls)?.port ?? 0,
    lmtpPort: server.lmtp.listeners[0]?.port ?? 0,
    smtpPort: server.smtp.listeners[0]?.port ?? 0,
    managesievePort: server.managesieve.listeners[0]?.port ?? 0,
    async stop() {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
    async addUser(username, password, quotaBytes) {
      const user = await server.store.createUser({
        username,
        passwordHash: await hashPassword(password),
        quotaBytes,
      });
      return user.id;
    },
  };
}

/**
 * A raw IMAP client for transcripts: send lines, read until a tagged response. Lines are kept as
 * strings (latin1) so byte counts stay visible.
 */
export class LineClient {
  private buffer = '';
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** `host`: the server's address (its listener may be on another than loopback). */
  static connect(port: number, secure = false, host = '127.0.0.1'): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = secure
        ? tls.connect({ port, host, rejectUnauthorized: false }, () => resolve(new LineClient(socket)))
        : net.connect({ port, host }, () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Waits until the buffer has a line matching `pattern`; returns everything up to and including it. */
  async readUntil(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.buffer.split('\r\n');
      for (let index = 0; index < lines.length - 1; index++) {
        if (pattern.test(lines[index]!)) {
          const taken = lines.slice(0, index + 1).join('\r\n') + '\r\n';
          this.buffer = this.buffer.slice(taken.length);
          return taken;
        }
      }
      if (this.closed) throw new Error(`connection closed while waiting for ${pattern}; got: ${this.buffer}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern}; got: ${this.buffer}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once the peer has closed the connection. */
  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Sends `tag command` and returns the full response through the tagged line. */
  async command(tag: string, command: string, timeoutMs?: number): Promise<string> {
    this.send(`${tag} ${command}\r\n`);
    return this.readUntil(new RegExp(`^${tag} (OK|NO|BAD)`), timeoutMs);
  }

  /** Upgrades this client to TLS (after a STARTTLS OK). */
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

  close(): void {
    this.socket.destroy();
  }
}
