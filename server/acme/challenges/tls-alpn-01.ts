/**
 * TLS-ALPN-01 (RFC 8737): the CA opens TLS to <name>:443 offering only the ALPN protocol
 * `acme-tls/1`, with the name as SNI, and expects a self-signed certificate for that name holding
 * the SHA-256 of the key authorization in the critical acmeIdentifier extension. acme-client's
 * `crypto.createAlpnCertificate` makes it. The listener (acme.host:acme.tls_port) is open only while
 * a challenge is; a client that does not negotiate acme-tls/1, or names no pending identifier, gets
 * no certificate at all (RFC 8737 section 3: such a certificate must not be shown to other clients).
 */
import type acme from 'acme-client';
import tls from 'node:tls';
import type { ChallengeResponder, ChallengeTask } from './types.ts';
import { OnDemandListener } from './on-demand-listener.ts';

const ACME_TLS = 'acme-tls/1';

export function tlsAlpnChallengeResponder(options: { host: string; port: number }): ChallengeResponder {
  const listener = new OnDemandListener<tls.SecureContext>(
    (lookup) =>
      tls.createServer(
        {
          ALPNCallback: ({ protocols }) => (protocols.includes(ACME_TLS) ? ACME_TLS : undefined),
          SNICallback: (servername, callback) => {
            const context = lookup(servername.toLowerCase());
            if (context) callback(null, context);
            else callback(new Error(`no TLS-ALPN-01 challenge for ${servername}`));
          },
        },
        (socket) => socket.end(),
      ),
    options.host,
    options.port,
    'TLS-ALPN-01',
  );
  return {
    acmeType: 'tls-alpn-01',
    async present(task: ChallengeTask) {
      // Loaded here: the responder is made before any order, and most servers never present one.
      const { default: acme } = await import('acme-client');
      const key = await acme.crypto.createPrivateEcdsaKey();
      const [, certificate] = await acme.crypto.createAlpnCertificate(
        { identifier: { type: 'dns', value: task.identifier } } as acme.Authorization,
        task.keyAuthorization,
        key,
      );
      await listener.add(task.identifier.toLowerCase(), tls.createSecureContext({ key, cert: certificate }));
    },
    cleanup: (task: ChallengeTask) => listener.remove(task.identifier.toLowerCase()),
    close: () => listener.close(),
  };
}
