/** The one place TLS settings are made into a SecureContext: TLS 1.2 or later for every listener. */
import tls from 'node:tls';

export interface PemPair {
  /** The certificate chain in PEM, leaf first. */
  cert: string;
  key: string;
}

export function secureContextOf(pair: PemPair): tls.SecureContext {
  return tls.createSecureContext({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' });
}
