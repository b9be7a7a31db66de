/**
 * The greeting without smtp-server's fixed 100 ms early-talker delay: LMTP and loopback SMTP greet
 * as soon as the connection rules admit the client, and commands a client pipelines before the
 * greeting are answered after it, in order, instead of with "421 You talk too soon". A stranger on
 * port 25 (a non-loopback address) still gets the 421 for talking first.
 */
import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greetsAtOnce } from '../../server/smtp/engine.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  // SMTP on every address, so that a connection can come from a non-loopback one of this machine.
  server = await startTestServer({ MALLARD_SMTP_HOST: '0.0.0.0' });
  await server.addUser('alice@example.test', 'secret');
});
afterAll(() => server.stop());

/**
 * Connects and writes `lines` at once, before anything has been read (the bytes go out with the
 * connection), then collects replies until `count` complete replies (or the close) have arrived.
 */
function talkFirst(host: string, port: number, lines: string[], count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.write(lines.map((line) => `${line}\r\n`).join(''));
    let text = '';
    const replies = () => text.split(/(?<=^\d{3} [^\r\n]*\r\n)/m).filter((reply) => reply.endsWith('\r\n'));
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (replies().length >= count) {
        socket.destroy();
        resolve(replies());
      }
    });
    socket.once('close', () => resolve(replies()));
    socket.once('error', reject);
  });
}

/** An IPv4 address of this machine that is not loopback, if it has one. */
const outsideAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;

describe('greeting', () => {
  it('LMTP answers commands pipelined before the greeting, after it and in order', async () => {
    const replies = await talkFirst(
      '127.0.0.1',
      server.lmtpPort,
      ['LHLO client.test', 'MAIL FROM:<sender@remote.test>', 'RCPT TO:<alice@example.test>', 'QUIT'],
      5,
    );
    expect(replies[0]).toBe('220 localhost LMTP Mallard\r\n');
    expect(replies[1]).toMatch(/^250-localhost Hello \S+\r\n(250-.*\r\n)*250 .*\r\n$/);
    expect(replies.slice(2)).toEqual([
      expect.stringMatching(/^250 2\.1\.0 /),
      expect.stringMatching(/^250 2\.1\.5 /),
      expect.stringMatching(/^221 /),
    ]);
  });

  it('SMTP from loopback does the same', async () => {
    const replies = await talkFirst('127.0.0.1', server.smtpPort, ['EHLO client.test', 'QUIT'], 3);
    expect(replies[0]).toBe('220 localhost ESMTP Mallard\r\n');
    expect(replies[1]).toMatch(/^250-localhost Hello \S+\r\n/);
    expect(replies[2]).toMatch(/^221 /);
  });

  it.skipIf(!outsideAddress)(
    'SMTP from another address still refuses a client that talks first',
    async () => {
      const replies = await talkFirst(outsideAddress!, server.smtpPort, ['EHLO client.test'], 1);
      expect(replies[0]).toMatch(/^421 localhost You talk too soon\r\n$/);
    },
  );

  it('skips the delay for every LMTP client and for SMTP on loopback only', () => {
    expect(greetsAtOnce('lmtp', '192.0.2.1')).toBe(true);
    expect(greetsAtOnce('smtp', '127.0.0.1')).toBe(true);
    expect(greetsAtOnce('smtp', '::1')).toBe(true);
    expect(greetsAtOnce('smtp', '192.0.2.1')).toBe(false);
  });
});
