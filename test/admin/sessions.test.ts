/**
 * The session registry live: IMAP, POP3 and LMTP sessions appear in GET /api/sessions and on the
 * event stream within a second, with the right user and TLS state; kicking one closes only that
 * session; a slow event consumer is dropped.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminEvent, SessionJson } from '../../server/admin/schemas.ts';
import { LineClient } from '../helpers/server.ts';
import { EventClient, eventually, startAdminHarness, type AdminHarness } from './harness.ts';

let h: AdminHarness;
let userId: string;
const open: Array<{ close(): void }> = [];

beforeAll(async () => {
  h = await startAdminHarness({ admin: { maxBufferedBytes: 64 * 1024 } });
  userId = await h.addUser('dora@example.test', 'dora password');
});
afterAll(async () => {
  for (const item of open) item.close();
  await h.stop();
});

async function sessions(): Promise<SessionJson[]> {
  const result = await h.call('GET', '/api/sessions');
  expect(result.status).toBe(200);
  return result.body.sessions as SessionJson[];
}

async function imapLogin(secure: boolean): Promise<LineClient> {
  const client = await LineClient.connect(secure ? h.imapsPort : h.imapPort, secure);
  open.push(client);
  await client.readUntil(/^\* OK/);
  expect(await client.command('L', 'LOGIN dora@example.test "dora password"')).toMatch(/^L OK/m);
  return client;
}

/** The session of the client whose local port is `port`. */
const byPort = (list: SessionJson[], port: number) => list.find((session) => session.remotePort === port);

describe('IMAP sessions', () => {
  it('shows a TLS login in the list and on the event stream within a second; kicking it leaves the other session', async () => {
    const events = await EventClient.connect(h);
    open.push(events);
    const secureClient = await imapLogin(true);
    const plainClient = await imapLogin(false);
    const securePort = secureClient.socket.localPort!;
    const plainPort = plainClient.socket.localPort!;

    const listed = await eventually(async () => {
      const list = await sessions();
      const a = byPort(list, securePort);
      const b = byPort(list, plainPort);
      return a?.user && b?.user ? { a, b } : undefined;
    }, 1000);
    expect(listed.a).toMatchObject({
      protocol: 'imap',
      user: 'dora@example.test',
      userId,
      secure: true,
      tls: { version: expect.stringMatching(/^TLSv1\.[23]$/), cipher: expect.any(String) },
      remoteAddress: '127.0.0.1',
      localPort: h.imapsPort,
      commands: 1,
      idle: false,
      command: null,
    });
    expect(listed.a.bytesIn).toBeGreaterThan(0);
    expect(listed.a.bytesOut).toBeGreaterThan(0);
    expect(listed.b).toMatchObject({ user: 'dora@example.test', secure: false, tls: null });

    const id = listed.a.id;
    const opened = await events.waitFor((event) => event.type === 'session.opened' && event.data.id === id);
    expect(opened.data).toMatchObject({ protocol: 'imap', secure: true, user: null });
    const authenticated = await events.waitFor(
      (event) => event.type === 'session.authenticated' && event.data.id === id,
    );
    expect(authenticated.data).toMatchObject({ user: 'dora@example.test', userId });
    await events.waitFor(
      (event) => event.type === 'session.command' && event.data.id === id && event.data.command === 'LOGIN',
    );
    // The password never reaches the registry or the stream.
    expect(JSON.stringify(events.events)).not.toContain('dora password');

    const details = await h.call('GET', `/api/sessions/${id}`);
    expect(details.body.id).toBe(id);

    const kicked = await h.call('DELETE', `/api/sessions/${id}`);
    expect(kicked.status).toBe(204);
    expect(await secureClient.readUntil(/^\* BYE/)).toMatch(/^\* BYE Session closed by the administrator/m);
    await eventually(() => (secureClient.closed ? true : undefined), 3000);
    const closed = await events.waitFor((event) => event.type === 'session.closed' && event.data.id === id);
    expect(closed.data).toMatchObject({ user: 'dora@example.test', protocol: 'imap' });
    if (closed.type === 'session.closed') {
      expect(closed.data.bytesIn).toBeGreaterThan(0);
      expect(closed.data.bytesOut).toBeGreaterThan(0);
    }

    // The other session of the same user goes on.
    expect(await plainClient.command('N', 'NOOP')).toMatch(/^N OK/m);
    const after = await sessions();
    expect(after.find((session) => session.id === id)).toBeUndefined();
    expect(byPort(after, plainPort)?.user).toBe('dora@example.test');
    expect((await h.call('GET', `/api/sessions/${id}`)).status).toBe(404);
  });

  it('reports the client name, the selected mailbox, IDLE and STARTTLS', async () => {
    const events = await EventClient.connect(h);
    open.push(events);
    const client = await LineClient.connect(h.imapPort);
    open.push(client);
    await client.readUntil(/^\* OK/);
    const port = client.socket.localPort!;
    expect(await client.command('S', 'STARTTLS')).toMatch(/^S OK/m);
    await client.startTls();
    expect(await client.command('L', 'LOGIN dora@example.test "dora password"')).toMatch(/^L OK/m);
    await client.command('I', 'ID ("name" "TestMail" "version" "1.2")');
    await client.command('X', 'SELECT INBOX');
    const session = byPort(await sessions(), port)!;
    expect(session).toMatchObject({
      secure: true,
      tls: { version: expect.stringMatching(/^TLSv1/) },
      clientName: 'TestMail 1.2',
      mailbox: 'INBOX',
      commands: 4,
    });
    client.send('D IDLE\r\n');
    await client.readUntil(/^\+ /);
    await events.waitFor(
      (event) => event.type === 'session.idle' && event.data.id === session.id && event.data.idle,
    );
    expect(byPort(await sessions(), port)).toMatchObject({ idle: true, command: 'IDLE' });
    client.send('DONE\r\n');
    await client.readUntil(/^D OK/);
    await events.waitFor(
      (event) => event.type === 'session.idle' && event.data.id === session.id && !event.data.idle,
    );
    expect(byPort(await sessions(), port)).toMatchObject({ idle: false, command: null, commands: 5 });
    expect(
      events.events.some((event) => event.type === 'session.updated' && event.data.mailbox === 'INBOX'),
    ).toBe(true);
  });

  it('counts sessions per protocol in the status', async () => {
    const status = await h.call('GET', '/api/status');
    const imap = (await sessions()).filter((session) => session.protocol === 'imap').length;
    expect(status.body.connections.imap).toBe(imap);
  });
});

describe('POP3 and LMTP sessions', () => {
  it('registers a POP3 session with its user and kicks it with -ERR', async () => {
    const client = await LineClient.connect(h.pop3Port);
    open.push(client);
    await client.readUntil(/^\+OK/);
    client.send('USER dora@example.test\r\n');
    await client.readUntil(/^\+OK/);
    client.send('PASS dora password\r\n');
    await client.readUntil(/^\+OK/);
    const session = await eventually(async () => {
      const found = byPort(await sessions(), client.socket.localPort!);
      return found?.user ? found : undefined;
    });
    expect(session).toMatchObject({
      protocol: 'pop3',
      user: 'dora@example.test',
      mailbox: 'INBOX',
      commands: 2,
    });
    expect((await h.call('DELETE', `/api/sessions/${session.id}`)).status).toBe(204);
    expect(await client.readUntil(/^-ERR/)).toMatch(/Session closed by the administrator/);
  });

  it('registers an LMTP session and reports its delivery on the stream', async () => {
    const events = await EventClient.connect(h);
    open.push(events);
    const socket = net.connect(h.lmtpPort, '127.0.0.1');
    open.push({ close: () => socket.destroy() });
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const waitFor = (pattern: RegExp) => eventually(() => (pattern.test(received) ? true : undefined), 3000);
    await waitFor(/^220 /m);
    socket.write('LHLO client.example.test\r\n');
    await waitFor(/^250 /m);
    const session = await eventually(async () =>
      (await sessions()).find((candidate) => candidate.protocol === 'lmtp'),
    );
    expect(session).toMatchObject({ remoteAddress: '127.0.0.1', secure: false, localPort: h.lmtpPort });
    socket.write('MAIL FROM:<a@example.org>\r\nRCPT TO:<dora@example.test>\r\nDATA\r\n');
    await waitFor(/^354 /m);
    socket.write('Subject: hi\r\n\r\nhello\r\n.\r\n');
    await waitFor(/Saved as UID/);
    const delivery = (await events.waitFor((event) => event.type === 'delivery')) as Extract<
      AdminEvent,
      { type: 'delivery' }
    >;
    expect(delivery.data).toMatchObject({
      protocol: 'lmtp',
      sessionId: session.id,
      recipient: 'dora@example.test',
      userId,
      uid: 1,
    });
    const status = await h.call('GET', '/api/status');
    expect(status.body.delivered).toMatchObject({ lmtp: 1, total: 1 });
    socket.write('QUIT\r\n');
    const closed = await events.waitFor(
      (event) => event.type === 'session.closed' && event.data.id === session.id,
    );
    if (closed.type === 'session.closed') expect(closed.data.bytesIn).toBeGreaterThan(50);
  });
});

describe('the event stream', () => {
  it('sends a status tick at once, and rule verdicts as connections come', async () => {
    const events = await EventClient.connect(h);
    open.push(events);
    const status = await events.waitFor((event) => event.type === 'status');
    expect(status.data).toMatchObject({ connections: expect.any(Object), delivered: expect.any(Object) });
    const client = await LineClient.connect(h.imapPort);
    open.push(client);
    await client.readUntil(/^\* OK/);
    const verdict = await events.waitFor((event) => event.type === 'rule.verdict');
    expect(verdict.data).toMatchObject({
      phase: 'connect',
      protocol: 'imap',
      allow: true,
      remoteAddress: '127.0.0.1',
    });
  });

  it('reports certificate changes', async () => {
    const events = await EventClient.connect(h);
    open.push(events);
    const created = await h.call('POST', '/api/certificates', {
      body: { type: 'server', names: ['events.example.test'], keyType: 'ecdsa' },
    });
    expect(created.status).toBe(201);
    const change = await events.waitFor(
      (event) => event.type === 'certificate.changed' && event.data.id === created.body.id,
    );
    expect(change.data).toMatchObject({ action: 'created' });
  });

  it('drops a consumer that does not keep up, without slowing anything down', async () => {
    const slow = await EventClient.connect(h);
    open.push(slow);
    const fast = await EventClient.connect(h);
    open.push(fast);
    const before = h.server.admin!.clients;
    // Stop reading on the slow client's side: the server's buffer for it fills up.
    (slow.socket as unknown as { _socket: net.Socket })._socket.pause();
    const filler = 'x'.repeat(16 * 1024);
    // Small bursts with pauses between, so a client that reads keeps up; the paused one cannot.
    let sent = 0;
    const deadline = Date.now() + 15_000;
    while (h.server.admin!.clients === before && Date.now() < deadline) {
      const started = Date.now();
      for (let index = 0; index < 2; index++) {
        h.server.events.publish('certificate.changed', { action: filler, id: String(sent++) });
      }
      expect(Date.now() - started).toBeLessThan(100); // publishing never waits for a client
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(h.server.admin!.clients).toBe(before - 1);
    // The fast client stays connected and gets later events.
    h.server.events.publish('certificate.changed', { action: 'last', id: null });
    await fast.waitFor((event) => event.type === 'certificate.changed' && event.data.action === 'last', 5000);
  });
});
