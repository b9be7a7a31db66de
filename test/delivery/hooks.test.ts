/**
 * The connection hooks on LMTP and SMTP: onConnect sees the session (protocol, addresses, ports,
 * TLS) and may refuse it, with SMTP's 554 and the hooks' own words; a failing hook refuses (421);
 * onClose always runs, once, with the TLS state at the end; the service counts what it delivered.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import type { ConnectionHooks, ConnectionSession, ConnectVerdict } from '../../server/hooks/types.ts';
import { createLogger } from '../../server/log.ts';
import { startServer, type RunningServer } from '../../server/main.ts';
import { makeDataDir } from '../helpers/cli.ts';
import { SmtpLineClient } from './clients.ts';

let server: RunningServer;
let dataDir: string;
let verdict: () => Promise<ConnectVerdict> = () => Promise.resolve({ allow: true });
const opened: ConnectionSession[] = [];
const closed: ConnectionSession[] = [];

const hooks: ConnectionHooks = {
  onConnect(session) {
    opened.push({ ...session });
    return verdict();
  },
  onClose(session) {
    closed.push({ ...session });
  },
};

beforeAll(async () => {
  dataDir = makeDataDir();
  const config = loadConfig({
    env: {
      MALLARD_DATA_DIR: dataDir,
      MALLARD_HOSTNAME: 'localhost',
      MALLARD_SMTP_HOST: '127.0.0.1',
      // Only the delivery listeners.
      MALLARD_IMAP_PORT: '0',
      MALLARD_IMAP_TLS_PORT: '0',
      MALLARD_POP3_PORT: '0',
      MALLARD_POP3_TLS_PORT: '0',
      MALLARD_WEB_PORT: '0',
      MALLARD_MANAGESIEVE_PORT: '0',
    },
  });
  server = await startServer(config, {
    ephemeralPorts: true,
    hooks,
    logger: createLogger('silent', process.stderr),
  });
  await server.store.createUser({ username: 'alice@example.test', passwordHash: 'not used here' });
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const port = (protocol: 'lmtp' | 'smtp') => server[protocol].listeners[0]!.port;

async function waitFor(condition: () => boolean): Promise<void> {
  for (let tries = 0; tries < 100 && !condition(); tries++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(condition()).toBe(true);
}

describe('connection hooks', () => {
  for (const protocol of ['smtp', 'lmtp'] as const) {
    it(`${protocol}: refuses with 554 and the hooks' reason, then runs onClose`, async () => {
      verdict = () => Promise.resolve({ allow: false, reason: 'Access denied' });
      const { client, greeting } = await SmtpLineClient.connect(port(protocol));
      expect(greeting).toBe('554 Access denied\r\n');
      const session = opened.at(-1)!;
      expect(session).toMatchObject({
        protocol,
        remoteAddress: '127.0.0.1',
        localPort: port(protocol),
        secure: false,
        user: null,
      });
      expect(session.remotePort).toBe(client.line.socket.localPort);
      await waitFor(() => closed.some((entry) => entry.id === session.id));
      expect(closed.filter((entry) => entry.id === session.id)).toHaveLength(1);
      client.close();
    });
  }

  it('refuses with 421 when the hooks fail', async () => {
    verdict = () => Promise.reject(new Error('rule store unreachable'));
    const { client, greeting } = await SmtpLineClient.connect(port('smtp'));
    expect(greeting).toBe('421 localhost Service not available\r\n');
    client.close();
  });

  it('reports the TLS state to onClose after STARTTLS, and counts deliveries', async () => {
    verdict = () => Promise.resolve({ allow: true });
    const before = server.smtp.deliveredCount;
    const { client, greeting } = await SmtpLineClient.connect(port('smtp'));
    expect(greeting).toMatch(/^220 /);
    const id = opened.at(-1)!.id;
    await client.command('EHLO client.test');
    expect(await client.command('STARTTLS')).toMatch(/^220 /);
    await client.startTls();
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<sender@remote.test>');
    await client.command('RCPT TO:<alice@example.test>');
    expect(await client.data(Buffer.from('Subject: hooks\r\n\r\nhi\r\n'))).toEqual([
      expect.stringMatching(/^250 /),
    ]);
    expect(server.smtp.deliveredCount).toBe(before + 1);
    expect(await client.command('QUIT')).toMatch(/^221 /);
    client.close();
    await waitFor(() => closed.some((entry) => entry.id === id));
    expect(closed.find((entry) => entry.id === id)).toMatchObject({ protocol: 'smtp', secure: true });
  });
});
