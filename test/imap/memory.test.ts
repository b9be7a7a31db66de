/**
 * Memory a stranger or a hostile user can make the server hold, measured as the RSS of a real
 * `mallard serve` process (from /proc) before and during the attack:
 * - 16 connections each announcing a 64 MB literal before login (synchronising and LITERAL+);
 * - 300 MB of pipelined NOOPs whose answers the client never reads (IMAP and POP3): the server
 *   must stop reading (backpressure) instead of buffering the input.
 * The bound is generous (64 MB): without the limits the growth is hundreds of MB.
 */
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir, runMallard } from '../helpers/cli.ts';
import { startServerProcess, type ServerProcess } from '../mongodb/support.ts';

const USER = 'mem@example.test';
const PASSWORD = 'memory password';
const GROWTH_BOUND_KIB = 64 * 1024;
const LITERAL = 64 * 1024 * 1024;

let server: ServerProcess;

beforeAll(async () => {
  const dataDir = makeDataDir('mallard-memory-');
  expect(runMallard(['domain', 'add', 'example.test'], { dataDir }).status).toBe(0);
  const added = runMallard(['user', 'add', USER, '--password', '-'], { dataDir, input: `${PASSWORD}\n` });
  expect(added.status, added.stderr).toBe(0);
  server = await startServerProcess({ sqliteDataDir: dataDir });
  // Warm up (code loaded, a login done) so the baseline is not the cold start.
  const warm = await Session.open(server.imapPort);
  await warm.until(/^\* OK/);
  warm.send(`a LOGIN ${USER} "${PASSWORD}"\r\n`);
  await warm.until(/^a OK/);
  warm.destroy();
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
}, 30_000);

function rssKiB(): number {
  const status = fs.readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]);
}

/** A raw connection that collects what the server says (or ignores it, see `deaf`). */
class Session {
  text = '';
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      if (this.text.length < 100_000) this.text += chunk;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<Session> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new Session(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Waits for a line matching `pattern` (or the close, which resolves false). */
  async until(pattern: RegExp, timeoutMs = 20_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.text.split('\r\n').some((line) => pattern.test(line))) return true;
      if (this.closed) return false;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern}; got ${this.text.slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(data: string | Buffer): boolean {
    return this.socket.write(data);
  }

  /**
   * Writes `total` bytes made by `chunk()`, honouring backpressure; stops early when the server
   * closes or stops reading for `stallMs` (it applies backpressure). Returns the bytes written.
   */
  async pour(total: number, chunk: Buffer, stallMs = 5000): Promise<number> {
    let written = 0;
    while (written < total && !this.closed) {
      const piece = chunk.length <= total - written ? chunk : chunk.subarray(0, total - written);
      written += piece.length;
      if (this.socket.write(piece)) continue;
      const drained = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), stallMs);
        const done = () => {
          clearTimeout(timer);
          resolve(true);
        };
        this.socket.once('drain', done);
        this.socket.once('close', done);
      });
      if (!drained) break;
    }
    return written;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('memory before login', () => {
  it('stays flat with 16 connections announcing 64 MB literals', async () => {
    const before = rssKiB();
    const sessions: Session[] = [];
    const attacks = Array.from({ length: 16 }, async (_, index) => {
      const session = await Session.open(server.imapPort);
      sessions[index] = session;
      await session.until(/^\* OK/);
      const data = Buffer.alloc(1024 * 1024, 0x61);
      if (index % 2 === 0) {
        session.send(`a LOGIN {${LITERAL}}\r\n`);
        // Refused without "+", the literal is never sent; an old server says "+" and takes it.
        await session.until(/^(\+ |a NO|a BAD)/);
        if (/^\+ /m.test(session.text)) await session.pour(LITERAL, data);
      } else {
        session.send(`a LOGIN {${LITERAL}+}\r\n`);
        await session.pour(LITERAL, data);
      }
    });
    await Promise.all(attacks);
    const during = rssKiB();
    // Refused: NO [TOOBIG] for a synchronising literal, the connection closed for LITERAL+.
    const refused = sessions.filter((session, index) =>
      index % 2 === 0 ? /^a NO \[TOOBIG\]/m.test(session.text) : session.closed,
    ).length;
    for (const session of sessions) session.destroy();
    console.log(`pre-login literals: RSS ${before} KiB → ${during} KiB, ${refused}/16 refused`);
    expect(refused).toBe(16);
    expect(during - before).toBeLessThan(GROWTH_BOUND_KIB);
  }, 120_000);
});

describe('backpressure: 300 MB of pipelined commands whose answers are never read', () => {
  it.each([
    ['IMAP', () => server.imapPort, `a LOGIN ${USER} "${PASSWORD}"\r\n`, /^a OK/, 'n NOOP\r\n'],
    [
      'POP3',
      () => server.pop3Port,
      `USER ${USER}\r\nPASS ${PASSWORD}\r\n`,
      /^\+OK.*(maildrop|logged|message)/i,
      'NOOP\r\n',
    ],
  ])(
    '%s does not buffer them',
    async (_name, port, login, loggedIn, command) => {
      const session = await Session.open(port());
      await session.until(/^(\* OK|\+OK)/);
      session.send(login);
      expect(await session.until(loggedIn)).toBe(true);
      // From here on nothing is read: the answers pile up on the server's side.
      session.socket.pause();
      const before = rssKiB();
      const chunk = Buffer.from(command.repeat(Math.floor((1024 * 1024) / command.length)));
      const written = await session.pour(300 * 1024 * 1024, chunk);
      const during = rssKiB();
      session.destroy();
      console.log(
        `${_name} pipelined: ${(written / 1048576).toFixed(0)} MB written, RSS ${before} KiB → ${during} KiB`,
      );
      expect(during - before).toBeLessThan(GROWTH_BOUND_KIB);
    },
    180_000,
  );
});
