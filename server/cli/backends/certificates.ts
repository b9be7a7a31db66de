/**
 * Certificates for `mallard cert`: through the running server's admin API (its store applies an
 * activation to new connections at once), else the certificate store on the data directory.
 * Either way private keys stay in the store; only certificate details and the CA certificate come
 * out.
 */
import type { Config } from '../../config/schema.ts';
import {
  CertificateError,
  CertificateStore,
  type AuthorityOptions,
  type CertificateInfo,
  type ImportOptions,
  type ServerCertificateOptions,
} from '../../tls/store.ts';
import type { AdminClient } from '../admin-client.ts';
import { CliError, EXIT } from '../cli-error.ts';

export interface CertificateBackend {
  readonly via: 'api' | 'store';
  list(): Promise<CertificateInfo[]>;
  createAuthority(options: AuthorityOptions): Promise<CertificateInfo>;
  issue(options: ServerCertificateOptions): Promise<CertificateInfo>;
  import(options: ImportOptions): Promise<CertificateInfo>;
  activate(id: string): Promise<CertificateInfo>;
  /** The local CA certificate, PEM or DER. */
  exportAuthority(der: boolean): Promise<Buffer>;
  remove(id: string): Promise<void>;
}

export function apiCertificates(api: AdminClient): CertificateBackend {
  const create = (body: object) => api.request<CertificateInfo>('POST', '/api/certificates', body);
  return {
    via: 'api',
    async list() {
      return (await api.request<{ certificates: CertificateInfo[] }>('GET', '/api/certificates'))
        .certificates;
    },
    createAuthority: (options) => create({ type: 'authority', ...options }),
    issue: (options) => create({ type: 'server', ...options }),
    import: (options) => create({ type: 'import', ...options }),
    activate: (id) =>
      api.request<CertificateInfo>('POST', `/api/certificates/${encodeURIComponent(id)}/activate`),
    exportAuthority: (der) => api.download(`/api/certificates/authority.${der ? 'der' : 'pem'}`),
    async remove(id) {
      await api.request('DELETE', `/api/certificates/${encodeURIComponent(id)}`);
    },
  };
}

/** Store errors as the API would map them: every refusal is a data error (65). */
function call<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    if (error instanceof CertificateError) return Promise.reject(new CliError(error.message, EXIT.dataError));
    return Promise.reject(error as Error);
  }
}

export function storeCertificates(config: Config): CertificateBackend {
  const store = new CertificateStore(config.data_dir, { configuredDefault: Boolean(config.tls.cert_file) });
  return {
    via: 'store',
    list: () => call(() => store.list()),
    createAuthority: (options) => call(() => store.createAuthority(options)),
    issue: (options) => call(() => store.issueServerCertificate(options)),
    import: (options) => call(() => store.importCertificate(options)),
    activate: (id) => call(() => store.activate(id)),
    exportAuthority: (der) =>
      call(() => {
        const exported = store.exportAuthority();
        return der ? exported.der : Buffer.from(exported.pem);
      }),
    remove: (id) => call(() => store.remove(id)),
  };
}
