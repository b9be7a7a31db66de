/**
 * The TLS profile of every listener (issue 19, item 12), checked with `openssl s_client`: Mozilla
 * "intermediate" for TLS 1.2 (ECDHE with AES-GCM or ChaCha20 only: no static RSA, no CBC-SHA1),
 * TLS 1.3 with its defaults, and client-initiated renegotiation refused. IMAP, POP3, SMTP and LMTP,
 * implicit TLS and STARTTLS.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

interface Listener {
  name: string;
  port: () => number;
  /** s_client's -starttls protocol, none for implicit TLS. */
  starttls?: string;
}

const LISTENERS: Listener[] = [
  { name: 'IMAPS', port: () => server.imapsPort },
  { name: 'IMAP STARTTLS', port: () => server.imapPort, starttls: 'imap' },
  { name: 'POP3S', port: () => server.pop3sPort },
  { name: 'POP3 STLS', port: () => server.pop3Port, starttls: 'pop3' },
  { name: 'SMTP STARTTLS', port: () => server.smtpPort, starttls: 'smtp' },
  { name: 'LMTP STARTTLS', port: () => server.lmtpPort, starttls: 'lmtp' },
];

interface SClient {
  output: string;
  /** The negotiated cipher, null when the handshake failed. */
  cipher: string | null;
  protocol: string | null;
}

/**
 * Runs `openssl s_client` against a listener. Without `renegotiate` it quits after the handshake;
 * with it, it sends `R` (renegotiate) once connected and ends when the server ends the connection,
 * or when a second handshake has completed.
 */
function sClient(listener: Listener, args: string[], renegotiate = false): Promise<SClient> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', [
      's_client',
      '-connect',
      `127.0.0.1:${listener.port()}`,
      ...(listener.starttls ? ['-starttls', listener.starttls] : []),
      ...args,
    ]);
    let output = '';
    let askedToRenegotiate = false;
    const timer = setTimeout(() => child.kill(), 15_000);
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString('latin1');
      if (!renegotiate) return;
      if (!askedToRenegotiate && /Cipher is (?!\(NONE\))/.test(output)) {
        askedToRenegotiate = true;
        child.stdin.write('R\n');
      }
      // Renegotiated: the second handshake verified the certificate again.
      if (/RENEGOTIATING[\s\S]*verify return/.test(output)) child.stdin.end();
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const match = /New, (\S+), Cipher is (\S+)/.exec(output);
      const cipher = match && match[2] !== '(NONE)' ? match[2]! : null;
      resolve({ output, cipher, protocol: cipher ? match![1]! : null });
    });
    if (!renegotiate) child.stdin.end('Q\n');
  });
}

describe.each(LISTENERS)('$name', (listener) => {
  it('offers TLS 1.2 with ECDHE and AEAD only', async () => {
    for (const weak of [
      'AES128-SHA',
      'AES256-GCM-SHA384',
      'ECDHE-RSA-AES128-SHA',
      'ECDHE-RSA-AES256-SHA384',
    ]) {
      expect((await sClient(listener, ['-tls1_2', '-cipher', weak])).cipher, weak).toBeNull();
    }
    for (const strong of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-CHACHA20-POLY1305']) {
      const result = await sClient(listener, ['-tls1_2', '-cipher', strong]);
      expect(result.cipher, result.output).toBe(strong);
    }
  });

  it('speaks TLS 1.3 with its default suites', async () => {
    const result = await sClient(listener, ['-tls1_3']);
    expect(result.protocol, result.output).toBe('TLSv1.3');
    expect(result.cipher).toMatch(/^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/);
  });

  it('refuses a client-initiated renegotiation', async () => {
    const result = await sClient(listener, ['-tls1_2'], true);
    expect(result.output).toContain('RENEGOTIATING');
    expect(result.output).not.toMatch(/RENEGOTIATING[\s\S]*verify return/);
    expect(result.output).toMatch(/no renegotiation/);
  });
});
