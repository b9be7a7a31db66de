/**
 * A real Mallard server (store, listeners, admin API on free loopback ports) for the admin API
 * tests, with a small HTTP client and an event stream client.
 */
import fs from 'node:fs';
import { WebSocket } from 'ws';
import { hashPassword } from '../../server/auth/password.ts';
import { loadConfig } from '../../server/config/load.ts';
import { createLogger } from '../../server/log.ts';
import { startServer, type RunningServer, type StartOptions } from '../../server/main.ts';
import type { AdminEvent } from '../../server/admin/schemas.ts';
import { makeDataDir } from '../helpers/cli.ts';

export interface AdminHarness {
  server: RunningServer;
  dataDir: string;
  url: string;
  token: string;
  imapPort: number;
  imapsPort: number;
  pop3Port: number;
  lmtpPort: number;
  call(method: string, path: string, options?: CallOptions): Promise<ApiResult>;
  addUser(username: string, password: string): Promise<string>;
  /** Stops the server; the data directory is removed unless `keepData`. */
  stop(keepData?: boolean): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  /** null: no Authorization header; a string: that token. Default: the right token. */
  token?: string | null;
  headers?: Record<string, string>;
}

export interface ApiResult {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  raw: Buffer;
}

export async function startAdminHarness(
  options: Omit<StartOptions, 'ephemeralPorts'> & { dataDir?: string } = {},
): Promise<AdminHarness> {
  const dataDir = options.dataDir ?? makeDataDir('mallard-admin-');
  const config = loadConfig({
    env: {
      MALLARD_DATA_DIR: dataDir,
      MALLARD_IMAP_HOST: '127.0.0.1',
      MALLARD_POP3_HOST: '127.0.0.1',
      MALLARD_SMTP_HOST: '127.0.0.1',
      MALLARD_SUBMISSION_HOST: '127.0.0.1',
      // Mail for other domains is never looked up outside the machine (nothing answers there).
      MALLARD_DNS_SERVERS: '127.0.0.1:9',
      MALLARD_HOSTNAME: 'localhost',
    },
  });
  const logger = options.logger ?? createLogger(process.env.MALLARD_TEST_LOG ?? 'silent', process.stderr);
  const server = await startServer(config, { ...options, logger, ephemeralPorts: true });
  const admin = server.admin!;
  const port = (list: RunningServer['imap']['listeners'], tls: boolean) =>
    list.find((listener) => listener.implicitTls === tls)?.port ?? 0;
  return {
    server,
    dataDir,
    url: admin.url,
    token: admin.token,
    imapPort: port(server.imap.listeners, false),
    imapsPort: port(server.imap.listeners, true),
    pop3Port: port(server.pop3.listeners, false),
    lmtpPort: server.lmtp.listeners[0]?.port ?? 0,
    async call(method, path, callOptions = {}) {
      const headers: Record<string, string> = { ...callOptions.headers };
      const token = callOptions.token === undefined ? admin.token : callOptions.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let body: string | Buffer | undefined;
      if (Buffer.isBuffer(callOptions.body)) {
        // A file upload: the bytes as they are.
        body = callOptions.body;
        headers['content-type'] ??= 'application/octet-stream';
      } else if (callOptions.body !== undefined) {
        body = JSON.stringify(callOptions.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${admin.url}${path}`, { method, headers, body });
      const raw = Buffer.from(await response.arrayBuffer());
      const type = response.headers.get('content-type') ?? '';
      return {
        status: response.status,
        headers: response.headers,
        body: type.startsWith('application/json') && raw.length > 0 ? JSON.parse(raw.toString('utf8')) : null,
        raw,
      };
    },
    async addUser(username, password) {
      const user = await server.store.createUser({ username, passwordHash: await hashPassword(password) });
      return user.id;
    },
    async stop(keepData = false) {
      await server.stop();
      if (!keepData) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An event stream client that records every event. */
export class EventClient {
  readonly events: AdminEvent[] = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.events.push(JSON.parse(data.toString('utf8')) as AdminEvent);
      for (const waiter of this.waiters.splice(0)) waiter();
    });
  }

  static connect(
    harness: AdminHarness,
    auth: { header?: string; protocols?: string[]; origin?: string } = {},
  ): Promise<EventClient> {
    const url = `${harness.url.replace(/^http/, 'ws')}/api/events`;
    const headers: Record<string, string> = {};
    if (auth.header !== undefined) headers.authorization = auth.header;
    if (auth.header === undefined && auth.protocols === undefined)
      headers.authorization = `Bearer ${harness.token}`;
    const socket = new WebSocket(url, auth.protocols ?? [], { headers, origin: auth.origin });
    return new Promise((resolve, reject) => {
      const client = new EventClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) => {
        reject(Object.assign(new Error(`refused: ${response.statusCode}`), { status: response.statusCode }));
      });
      socket.once('error', reject);
    });
  }

  /** Waits for an event matching `predicate` (seen already or coming). */
  async waitFor(predicate: (event: AdminEvent) => boolean, timeoutMs = 1000): Promise<AdminEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no matching event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => e.type))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
