import acme from 'acme-client';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/ports.ts';
import { tlsAlpnChallengeResponder } from './tls-alpn-01.ts';

function handshake(
  port: number,
  servername: string,
  alpn: string[],
): Promise<{ protocol: string | false; certificate: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, servername, ALPNProtocols: alpn, rejectUnauthorized: false },
      () => {
        const raw = socket.getPeerX509Certificate();
        resolve({ protocol: socket.alpnProtocol ?? false, certificate: raw?.toString() ?? '' });
        socket.end();
      },
    );
    socket.once('error', reject);
  });
}

describe('TLS-ALPN-01 responder', () => {
  it('shows the acmeIdentifier certificate only to acme-tls/1 for a pending name (RFC 8737)', async () => {
    const port = await freePort();
    const responder = tlsAlpnChallengeResponder({ host: '127.0.0.1', port });
    const task = { identifier: 'mail.example.test', token: 'token', keyAuthorization: 'token.thumbprint' };
    await responder.present(task);
    try {
      const answer = await handshake(port, 'mail.example.test', ['acme-tls/1']);
      expect(answer.protocol).toBe('acme-tls/1');
      expect(acme.crypto.isAlpnCertificateAuthorizationValid(answer.certificate, task.keyAuthorization)).toBe(
        true,
      );
      expect(acme.crypto.isAlpnCertificateAuthorizationValid(answer.certificate, 'token.other')).toBe(false);
      // A browser (h2/http1.1) or another name gets no certificate at all.
      await expect(handshake(port, 'mail.example.test', ['h2', 'http/1.1'])).rejects.toThrow();
      await expect(handshake(port, 'other.example.test', ['acme-tls/1'])).rejects.toThrow();
    } finally {
      await responder.cleanup(task);
    }
    await expect(handshake(port, 'mail.example.test', ['acme-tls/1'])).rejects.toThrow(/ECONNREFUSED/);
  });
});
