/**
 * The TLS settings every listener shares: TLS 1.2 or later, and the certificate to serve.
 * `TlsProvider.current()` (the default context) and `contextFor(servername)` / `sniCallback` (SNI)
 * are read per connection, so activating a certificate applies to new connections at once.
 *
 * What is served, first match wins:
 *   1. a pair given to `replace(pair)` (until a certificate is next activated in the store);
 *   2. with an SNI name, a stored server certificate that covers it: the active one if it does,
 *      else the one with an exact name, else one with a matching `*.` name (latest expiry first);
 *   3. the certificate activated in the store (`provider.certificates.activate(id)`);
 *   4. the configured `tls.cert_file`/`tls.key_file`;
 *   5. the self-signed certificate made on first start (`<data_dir>/tls/default.crt`).
 * Expired certificates are never picked by SNI; the self-signed one is only a fallback.
 */
import fs from 'node:fs';
import type tls from 'node:tls';
import type { Config } from '../config/schema.ts';
import { secureContextOf, type PemPair } from './secure-context.ts';
import { CertificateStore, nameMatches, type CertificateInfo } from './store.ts';

export { secureContextOf };
export type { PemPair };

export type SniCallback = (
  servername: string,
  callback: (error: Error | null, context?: tls.SecureContext) => void,
) => void;

export interface TlsStatus {
  /** Where the default certificate comes from. */
  source: 'store' | 'configured' | 'self-signed' | 'replaced';
  /** The default certificate when it is one of the store's (source 'store' or 'self-signed'). */
  certificate: CertificateInfo | null;
  /** Further certificates SNI may pick, by id. */
  sni: string[];
  /** Why a stored certificate could not be loaded (the default was served instead). */
  error?: string;
}

export interface TlsProvider {
  /** The default context: for clients that send no SNI name. */
  current(): tls.SecureContext;
  /** Serves this pair to every new connection, until a certificate is next activated in the store. */
  replace(pair: PemPair): void;
  /** The context for a client's SNI name (the default when no stored certificate covers it). */
  contextFor(servername: string | null | undefined): tls.SecureContext;
  /** `contextFor` in the shape of Node's `SNICallback` option (tls.TLSSocket, tls.createServer). */
  readonly sniCallback: SniCallback;
  /** The default certificate's chain and key in PEM (what `current()` serves): to sign with it. */
  currentPair(): PemPair;
  /** The certificate store behind this provider: generate, import, list, activate, export. */
  readonly certificates: CertificateStore;
  status(): TlsStatus;
}

function configuredPair(config: Config): PemPair | null {
  if (config.tls.cert_file && config.tls.key_file) {
    return {
      cert: fs.readFileSync(config.tls.cert_file, 'utf8'),
      key: fs.readFileSync(config.tls.key_file, 'utf8'),
    };
  }
  return null;
}

export interface TlsProviderOptions {
  /** The store to serve from; default a store in `<config.data_dir>/tls`. */
  certificates?: CertificateStore;
  /** How often a new connection looks for changes other processes made to the store (ms). */
  diskCheckMs?: number;
}

/** Another process's certificate change (worker 1's ACME renewal, the CLI) applies within this. */
const DISK_CHECK_MS = 2000;

export function createTlsProvider(config: Config, options: TlsProviderOptions = {}): TlsProvider {
  const configured = configuredPair(config);
  const certificates =
    options.certificates ?? new CertificateStore(config.data_dir, { configuredDefault: configured !== null });
  const selfSignedId = configured ? null : certificates.ensureSelfSigned(config.hostname);
  const fallback = configured ? secureContextOf(configured) : certificates.secureContext(selfSignedId!);

  const contexts = new Map<string, tls.SecureContext>(); // by id; an id names fixed content
  let replaced: tls.SecureContext | null = null;
  let replacedPair: PemPair | null = null;
  let active: { info: CertificateInfo; context: tls.SecureContext } | null = null;
  let candidates: CertificateInfo[] = [];
  let error: string | undefined;

  const contextOf = (id: string): tls.SecureContext => {
    let context = contexts.get(id);
    if (!context) {
      context = certificates.secureContext(id);
      contexts.set(id, context);
    }
    return context;
  };

  const refresh = () => {
    error = undefined;
    const list = certificates.list();
    for (const id of contexts.keys()) {
      if (!list.some((info) => info.id === id)) contexts.delete(id);
    }
    active = null;
    const activeInfo = certificates.active();
    if (activeInfo) {
      try {
        active = { info: activeInfo, context: contextOf(activeInfo.id) };
      } catch (failure) {
        error = `certificate ${activeInfo.id} cannot be loaded: ${(failure as Error).message}`;
      }
    }
    candidates = list.filter(
      (info) => (info.kind === 'server' || info.kind === 'imported') && !info.active && !info.expired,
    );
  };
  refresh();
  certificates.onChange((change) => {
    if (change.type === 'activated' || change.type === 'deactivated') replaced = replacedPair = null;
    refresh();
  });

  let checkedAt = Date.now();
  const diskCheckMs = options.diskCheckMs ?? DISK_CHECK_MS;
  /** Picks up what other processes changed; at most one stat per `diskCheckMs`, on a new connection. */
  const followDisk = () => {
    const now = Date.now();
    if (now - checkedAt < diskCheckMs) return;
    checkedAt = now;
    if (certificates.reloadIfChanged()) refresh();
  };
  certificates.reloadIfChanged(); // what the store read at start is what is on disk now

  const current = (): tls.SecureContext => {
    followDisk();
    return replaced ?? active?.context ?? fallback;
  };

  const contextFor = (servername: string | null | undefined): tls.SecureContext => {
    if (replaced || !servername) return current();
    followDisk();
    const name = servername.toLowerCase().replace(/\.$/, '');
    if (active?.info.names.some((pattern) => nameMatches(pattern, name))) return active.context;
    const now = Date.now();
    let best: { info: CertificateInfo; exact: boolean } | null = null;
    for (const info of candidates) {
      if (new Date(info.notAfter).getTime() <= now) continue;
      const exact = info.names.includes(name);
      if (!exact && !info.names.some((pattern) => nameMatches(pattern, name))) continue;
      if (!best || (exact && !best.exact) || (exact === best.exact && info.notAfter > best.info.notAfter)) {
        best = { info, exact };
      }
    }
    if (!best) return current();
    try {
      return contextOf(best.info.id);
    } catch {
      return current(); // files gone: serve the default rather than fail the handshake
    }
  };

  return {
    current,
    replace(pair) {
      replaced = secureContextOf(pair);
      replacedPair = pair;
    },
    currentPair() {
      followDisk();
      if (replaced && replacedPair) return replacedPair;
      if (active) return certificates.pemPair(active.info.id);
      return configured ?? certificates.pemPair(selfSignedId!);
    },
    contextFor,
    sniCallback: (servername, callback) => callback(null, contextFor(servername)),
    certificates,
    status() {
      const source = replaced ? 'replaced' : active ? 'store' : configured ? 'configured' : 'self-signed';
      const certificate =
        source === 'store'
          ? active!.info
          : source === 'self-signed'
            ? (certificates.list().find((info) => info.id === selfSignedId) ?? null)
            : null;
      return { source, certificate, sni: candidates.map((info) => info.id), ...(error ? { error } : {}) };
    },
  };
}
