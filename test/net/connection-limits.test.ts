/**
 * The connection gate over real sockets: the absolute pre-login deadline (a client dripping one
 * byte at a time is cut like a silent one, on IMAP, POP3 and SMTP), the per-address limit, and the
 * pre-login limit that ends the oldest stranger so a real login still gets through.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, newAccount } from '../helpers/mail-fixtures.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

const DEADLINE_SECONDS = 2;
const PER_ADDRESS = 6;
const PRELOGIN = 3;

let server: TestServer;
const sockets = new Set<net.Socket>();
const clients = new Set<LineClient>();

beforeAll(async () => {
  server = await startTestServer({
    MALLARD_LIMITS_PRELOGIN_TIMEOUT: String(DEADLINE_SECONDS),
    MALLARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
    MALLARD_LIMITS_MAX_PRELOGIN_CONNECTIONS: String(PRELOGIN),
  });
});
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  for (const client of clients) client.close();
  clients.clear();
  closeClients();
  // The next test starts from an empty gate: wait until the server has seen every close.
  const gate = server.server.gate;
  for (let waited = 0; gate.openConnections > 0; waited += 10) {
    if (waited > 5000) throw new Error(`${gate.openConnections} connections still open`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
});
afterAll(() => server.stop());

async function connect(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  clients.add(client);
  return client;
}

/**
 * Sends one harmless byte every `everyMs` (a command that never ends) until the server closes the
 * connection; resolves with the seconds it stayed open and everything the server said.
 */
function drip(port: number, everyMs: number): Promise<{ seconds: number; said: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    sockets.add(socket);
    let said = '';
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (said += chunk));
    socket.once('connect', () => {
      timer = setInterval(() => socket.write('x'), everyMs);
    });
    socket.once('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    socket.once('close', () => {
      clearInterval(timer);
      resolve({ seconds: (Date.now() - started) / 1000, said });
    });
  });
}

describe('the pre-login deadline is absolute', () => {
  it('cuts an IMAP client dripping a byte every 300 ms at the deadline, with a BYE', async () => {
    const { seconds, said } = await drip(server.imapPort, 300);
    expect(said).toMatch(/^\* OK/);
    expect(said).toMatch(/\* BYE Login timeout/);
    expect(seconds).toBeGreaterThanOrEqual(DEADLINE_SECONDS - 0.2);
    expect(seconds).toBeLessThan(DEADLINE_SECONDS + 3);
  }, 15_000);

  it('cuts a POP3 client the same way', async () => {
    const { seconds, said } = await drip(server.pop3Port, 300);
    expect(said).toMatch(/^\+OK/);
    expect(said).toMatch(/-ERR .*Login timeout/);
    expect(seconds).toBeLessThan(DEADLINE_SECONDS + 3);
  }, 15_000);

  it('cuts an SMTP client that never starts a transaction, with a 421', async () => {
    const { seconds, said } = await drip(server.smtpPort, 300);
    expect(said).toMatch(/^220 /);
    expect(said).toMatch(/421 .*Timeout waiting for MAIL FROM/);
    expect(seconds).toBeLessThan(DEADLINE_SECONDS + 3);
  }, 15_000);

  it('leaves a logged-in session alone past the deadline', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    await new Promise((resolve) => setTimeout(resolve, (DEADLINE_SECONDS + 1) * 1000));
    expect(await client.command('n', 'NOOP')).toMatch(/^n OK/m);
  }, 15_000);
});

describe('connection limits', () => {
  it(`refuses the connection over ${PER_ADDRESS} from one address with a BYE, and lets one in once another closes`, async () => {
    const account = await newAccount(server);
    // Logged in, so that the pre-login limit does not end the oldest ones meanwhile.
    const open: LineClient[] = [];
    for (let index = 0; index < PER_ADDRESS; index++) open.push(await loggedIn(account));
    const refused = await connect(server.imapPort);
    expect(await refused.readUntil(/^\* BYE/)).toMatch(
      /^\* BYE \[UNAVAILABLE\] Too many connections from your address/,
    );
    open[0]!.close();
    await new Promise<void>((resolve) => open[0]!.socket.once('close', () => resolve()));
    // The server sees the close a moment later: retry until it does (bounded).
    for (let attempt = 0; ; attempt++) {
      const next = await connect(server.imapPort);
      const greeting = await next.readUntil(/^\* (OK|BYE)/);
      if (greeting.startsWith('* OK')) break;
      expect(attempt).toBeLessThan(50);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }, 15_000);

  it('counts every protocol against the address', async () => {
    const account = await newAccount(server);
    for (let index = 0; index < PER_ADDRESS; index++) await loggedIn(account);
    const pop3 = await connect(server.pop3Port);
    expect(await pop3.readUntil(/^[+-]/)).toMatch(/^-ERR \[SYS\/TEMP\] Too many connections/);
  }, 15_000);

  it(`ends the oldest of ${PRELOGIN} waiting strangers so that a real login gets through`, async () => {
    const strangers: LineClient[] = [];
    for (let index = 0; index < PRELOGIN; index++) {
      const stranger = await connect(server.imapPort);
      await stranger.readUntil(/^\* OK/);
      strangers.push(stranger);
    }
    const account = await newAccount(server);
    const client = await loggedIn(account);
    expect(await strangers[0]!.readUntil(/^\* BYE/)).toMatch(/Too many connections waiting to log in/);
    expect(await strangers[1]!.command('s', 'NOOP')).toMatch(/^s OK/m);
    expect(await client.command('n', 'NOOP')).toMatch(/^n OK/m);
  }, 15_000);
});
