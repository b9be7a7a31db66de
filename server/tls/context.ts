/**
 * The TLS settings every listener shares: TLS 1.2 or later, the configured certificate or the
 * generated default one. `TlsProvider.current()` is read per connection so a certificate change
 * applies to new connections without a restart.
 */
import fs from 'node:fs';
import tls from 'node:tls';
import type { Config } from '../config/schema.ts';
import { ensureDefaultCertificate, type PemPair } from './self-signed.ts';

export interface TlsProvider {
  current(): tls.SecureContext;
  replace(pair: PemPair): void;
}

export function secureContextOf(pair: PemPair): tls.SecureContext {
  return tls.createSecureContext({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' });
}

function configuredPair(config: Config): PemPair {
  if (config.tls.cert_file && config.tls.key_file) {
    return {
      cert: fs.readFileSync(config.tls.cert_file, 'utf8'),
      key: fs.readFileSync(config.tls.key_file, 'utf8'),
    };
  }
  return ensureDefaultCertificate(config.data_dir, config.hostname);
}

export function createTlsProvider(config: Config): TlsProvider {
  let context = secureContextOf(configuredPair(config));
  return {
    current: () => context,
    replace(pair) {
      context = secureContextOf(pair);
    },
  };
}
