/**
 * Certificates from an ACME CA (server/acme): the status the dashboard and a first-run wizard show,
 * a request (or renewal) now, and the operator's "the TXT record is published" for the manual
 * DNS-01 step. Without the ACME part (an embedder's small setup) these routes answer 501.
 */
import { z } from 'zod';
import type { AcmeService } from '../../acme/service.ts';
import type { AdminDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { route } from '../router.ts';
import { acmeStatusSchema } from '../schemas.ts';

const TAG = 'Certificates';

/** What the admin API uses of the ACME service. */
export type AcmeApi = Pick<AcmeService, 'status' | 'issue' | 'check' | 'confirm'>;

/** AcmeError codes → API errors; their messages are written for users. */
async function using<T>(deps: AdminDeps, call: (acme: AcmeApi) => T | Promise<T>): Promise<T> {
  if (!deps.acme) throw new ApiError('not_implemented', 'ACME certificates are not available in this server');
  try {
    return await call(deps.acme);
  } catch (error) {
    if (error instanceof Error && error.name === 'AcmeError' && 'code' in error) {
      const code = String(error.code);
      if (code === 'busy' || code === 'nothing_to_confirm') throw new ApiError('conflict', error.message);
      throw new ApiError('validation_failed', error.message, [{ path: 'body', message: code }]);
    }
    if (error instanceof Error && error.name === 'CertificateError') {
      throw new ApiError('validation_failed', error.message);
    }
    throw error;
  }
}

const statusJson = (status: unknown) => acmeStatusSchema.parse(status);

const issueBody = z.strictObject({
  acceptTerms: z
    .boolean()
    .optional()
    .describe("the operator accepts the CA's terms of service (remembered; acme.accept_terms does the same)"),
  challenge: z
    .enum(['http-01', 'tls-alpn-01', 'dns-01', 'manual'])
    .optional()
    .describe('default acme.challenge'),
  wait: z
    .boolean()
    .optional()
    .describe('answer when the request has ended, or when manual TXT records wait to be published'),
});

export const acmeRoutes = [
  route({
    method: 'GET',
    path: '/api/acme',
    operationId: 'getAcmeStatus',
    summary: 'The ACME certificate: state, expiry, last error, records waiting to be published',
    tag: TAG,
    response: { status: 200, schema: acmeStatusSchema, description: 'The status' },
    async handler({ deps }) {
      return statusJson(await using(deps, (acme) => acme.status()));
    },
  }),

  route({
    method: 'POST',
    path: '/api/acme/issue',
    operationId: 'issueAcmeCertificate',
    summary: 'Request a certificate for the server’s names from the ACME CA now',
    description:
      'Starts an order for hostname and acme.names; the issued certificate is stored and activated ' +
      '(new connections get it at once). Without wait the answer comes at once (state running); ' +
      'follow GET /api/acme or the acme.changed event. A failure leaves the served certificate in ' +
      'place and is reported in lastError. 409 when a request is running already.',
    tag: TAG,
    body: issueBody,
    response: { status: 200, schema: acmeStatusSchema, description: 'The status after starting (or ending)' },
    async handler({ body, deps }) {
      const status = await using(deps, (acme) => acme.issue(body));
      deps.logger.info({ via: 'admin', state: status.state }, 'ACME certificate requested');
      return statusJson(status);
    },
  }),

  route({
    method: 'POST',
    path: '/api/acme/renew',
    operationId: 'renewAcmeCertificate',
    summary: 'Renew the ACME certificate if it is due (or at once with force)',
    description:
      'What the daily check does: renews when the certificate is missing, does not cover the names, ' +
      'or expires within acme.renew_days. Answers when the attempt (if any) has ended.',
    tag: TAG,
    body: z.strictObject({ force: z.boolean().optional().describe('renew even when not due') }),
    response: { status: 200, schema: acmeStatusSchema, description: 'The status afterwards' },
    async handler({ body, deps }) {
      return statusJson(
        await using(deps, (acme) => (body.force ? acme.issue({ wait: true }) : acme.check())),
      );
    },
  }),

  route({
    method: 'POST',
    path: '/api/acme/confirm',
    operationId: 'confirmAcmeRecords',
    summary: 'Manual DNS-01: the TXT records are published, the CA may check them',
    tag: TAG,
    response: { status: 200, schema: acmeStatusSchema, description: 'The status' },
    async handler({ deps }) {
      return statusJson(await using(deps, (acme) => acme.confirm()));
    },
  }),
];
