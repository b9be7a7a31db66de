/**
 * TLS certificates through the certificate store of server/tls (`tls.certificates` of the running
 * server): list, create (a local CA, a server certificate it signs, or an imported chain and key),
 * show, activate (new connections use it at once), remove, and the CA certificate in PEM and DER
 * for phones and desktops to trust. Private keys never leave the store. Without a store (an
 * embedder's TLS provider) these routes answer 501 not_implemented.
 */
import { z } from 'zod';
import type { CertificateInfo, CertificateStore } from '../../tls/store.ts';
import type { AdminDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { route } from '../router.ts';
import { certificateSchema } from '../schemas.ts';
import { idParam } from './common.ts';

const TAG = 'Certificates';

/** What the admin API uses of the certificate store. */
export type CertificateService = Pick<
  CertificateStore,
  | 'list'
  | 'get'
  | 'createAuthority'
  | 'issueServerCertificate'
  | 'importCertificate'
  | 'activate'
  | 'remove'
  | 'exportAuthority'
  | 'onChange'
>;

const CONFLICTS = new Set(['duplicate', 'authority_exists', 'active', 'fallback']);
const NOT_FOUND = new Set(['not_found', 'no_authority']);

/** CertificateError codes → API errors; their messages are written for users. */
function mapCertificateError(error: unknown): never {
  if (error instanceof Error && error.name === 'CertificateError' && 'code' in error) {
    const code = String(error.code);
    if (NOT_FOUND.has(code)) throw new ApiError('not_found', error.message);
    if (CONFLICTS.has(code)) throw new ApiError('conflict', error.message);
    throw new ApiError('validation_failed', error.message, [{ path: 'body', message: code }]);
  }
  throw error;
}

function store(deps: AdminDeps): CertificateService {
  if (!deps.certificates) {
    throw new ApiError('not_implemented', 'certificate management is not available in this server');
  }
  return deps.certificates;
}

/** Runs a store call, mapping its errors. */
function using<T>(deps: AdminDeps, call: (certificates: CertificateService) => T): T {
  const certificates = store(deps);
  try {
    return call(certificates);
  } catch (error) {
    return mapCertificateError(error);
  }
}

const keyOptions = {
  keyType: z.enum(['rsa', 'ecdsa']).optional().describe('default rsa; ecdsa is P-256'),
  rsaBits: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]).optional(),
  validityDays: z.number().int().min(1).max(10950).optional(),
};

const createBody = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('authority'),
      commonName: z.string().min(1).max(64).optional(),
      ...keyOptions,
    })
    .describe('a local certificate authority'),
  z
    .strictObject({
      type: z.literal('server'),
      names: z.array(z.string().min(1).max(253)).min(1).max(100).describe('host names and IP addresses'),
      activate: z.boolean().optional(),
      ...keyOptions,
    })
    .describe('a server certificate signed by the local CA (created first when missing)'),
  z
    .strictObject({
      type: z.literal('import'),
      certPem: z.string().min(1).describe('the leaf certificate first, then intermediates'),
      keyPem: z.string().min(1).describe('the unencrypted private key of the leaf'),
      activate: z.boolean().optional(),
    })
    .describe('an existing certificate chain and its key'),
]);

const certificateParams = z.object({ id: idParam });

/** Only the documented fields go out (whatever the store adds later, a key never does). */
function certificateJson(info: CertificateInfo): z.output<typeof certificateSchema> {
  return certificateSchema.parse(info);
}

export const certificateRoutes = [
  route({
    method: 'GET',
    path: '/api/certificates',
    operationId: 'listCertificates',
    summary: 'List certificates with expiry and which one is active',
    tag: TAG,
    response: {
      status: 200,
      schema: z.object({ certificates: z.array(certificateSchema) }),
      description: 'The certificates, newest first',
    },
    async handler({ deps }) {
      return { certificates: using(deps, (certificates) => certificates.list()).map(certificateJson) };
    },
  }),

  route({
    method: 'POST',
    path: '/api/certificates',
    operationId: 'createCertificate',
    summary: 'Create a local CA or a server certificate, or import one',
    description:
      'An imported chain is checked: the key matches, the chain verifies, the names are read, it ' +
      'has not expired. A mismatched key is refused (400, key_mismatch).',
    tag: TAG,
    body: createBody,
    response: { status: 201, schema: certificateSchema, description: 'The new certificate' },
    async handler({ body, deps }) {
      const created = using(deps, (certificates) => {
        switch (body.type) {
          case 'authority': {
            const { type: _type, ...options } = body;
            return certificates.createAuthority(options);
          }
          case 'server': {
            const { type: _type, ...options } = body;
            return certificates.issueServerCertificate(options);
          }
          case 'import': {
            const { type: _type, ...options } = body;
            return certificates.importCertificate(options);
          }
        }
      });
      deps.logger.info({ certificate: created.id, kind: created.kind, via: 'admin' }, 'certificate created');
      return certificateJson(created);
    },
  }),

  route({
    method: 'GET',
    path: '/api/certificates/authority.pem',
    operationId: 'getAuthorityPem',
    summary: 'The local CA certificate in PEM (desktops, openssl -CAfile)',
    tag: TAG,
    response: {
      status: 200,
      contentType: 'application/x-pem-file',
      // The names the panel's links promise: one name and one format per link.
      filename: 'mallard-ca.pem',
      description: 'The CA certificate',
    },
    async handler({ deps }) {
      return using(deps, (certificates) => certificates.exportAuthority().pem);
    },
  }),

  route({
    method: 'GET',
    path: '/api/certificates/authority.der',
    operationId: 'getAuthorityDer',
    summary: 'The local CA certificate in DER (what phones install)',
    tag: TAG,
    response: {
      status: 200,
      contentType: 'application/x-x509-ca-cert',
      // .crt: the extension phones offer to install as a CA certificate.
      filename: 'mallard-ca.crt',
      description: 'The CA certificate',
    },
    async handler({ deps }) {
      return using(deps, (certificates) => certificates.exportAuthority().der);
    },
  }),

  route({
    method: 'GET',
    path: '/api/certificates/{id}',
    operationId: 'getCertificate',
    summary: 'Show a certificate',
    tag: TAG,
    params: certificateParams,
    response: { status: 200, schema: certificateSchema, description: 'The certificate' },
    async handler({ params, deps }) {
      return certificateJson(using(deps, (certificates) => certificates.get(params.id)));
    },
  }),

  route({
    method: 'POST',
    path: '/api/certificates/{id}/activate',
    operationId: 'activateCertificate',
    summary: 'Serve this certificate to new connections, at once',
    tag: TAG,
    params: certificateParams,
    response: { status: 200, schema: certificateSchema, description: 'The activated certificate' },
    async handler({ params, deps }) {
      const activated = using(deps, (certificates) => certificates.activate(params.id));
      deps.logger.info({ certificate: activated.id, via: 'admin' }, 'certificate activated');
      return certificateJson(activated);
    },
  }),

  route({
    method: 'DELETE',
    path: '/api/certificates/{id}',
    operationId: 'deleteCertificate',
    summary: 'Remove a certificate that is not in use',
    tag: TAG,
    params: certificateParams,
    response: { status: 204, description: 'Removed' },
    async handler({ params, deps }) {
      using(deps, (certificates) => certificates.remove(params.id));
      deps.logger.info({ certificate: params.id, via: 'admin' }, 'certificate removed');
    },
  }),
];
