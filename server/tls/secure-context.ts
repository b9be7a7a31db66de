/**
 * The one place TLS settings are made into a SecureContext, so every listener gets them: IMAP,
 * POP3, SMTP and LMTP, implicit TLS and STARTTLS/STLS alike (the SNI callback hands out contexts
 * made here too).
 *
 * - TLS 1.2 or later.
 * - TLS 1.2 ciphers: Mozilla's "intermediate" profile without its DHE suites (no DH parameters are
 *   configured, and ECDHE is faster): forward secrecy (ECDHE) and AEAD (AES-GCM, ChaCha20-Poly1305)
 *   only, so no static-RSA key exchange and no CBC with SHA-1 (Node's defaults still offer both).
 *   Every mail client of the last ten years has one of these. TLS 1.3 keeps OpenSSL's default
 *   suites, which are all AEAD with forward secrecy.
 * - The client's preference order is honoured, as the intermediate profile says: all suites are
 *   strong, and a phone without AES instructions may rightly prefer ChaCha20.
 * - Renegotiation is refused (SSL_OP_NO_RENEGOTIATION): a client-initiated renegotiation costs the
 *   server a full handshake for nothing (a cheap CPU-exhaustion attack) and has a history of
 *   injection bugs; TLS 1.3 has none at all. Node would otherwise allow three per ten minutes.
 */
import crypto from 'node:crypto';
import tls from 'node:tls';

export interface PemPair {
  /** The certificate chain in PEM, leaf first. */
  cert: string;
  key: string;
}

/** Mozilla intermediate (v5.7), ECDHE suites only, in its order. */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

/** OpenSSL's TLS 1.3 defaults, named so a change of Node's defaults cannot widen them. */
export const TLS13_CIPHERSUITES = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
];

export function secureContextOf(pair: PemPair): tls.SecureContext {
  return tls.createSecureContext({
    cert: pair.cert,
    key: pair.key,
    minVersion: 'TLSv1.2',
    ciphers: [...TLS13_CIPHERSUITES, ...TLS12_CIPHERS].join(':'),
    secureOptions: crypto.constants.SSL_OP_NO_RENEGOTIATION,
  });
}
