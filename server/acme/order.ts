/**
 * One order (RFC 8555 7.4): a new key for the certificate (RSA 2048: every mail client takes it),
 * a CSR for the names, each authorization proved by the responder, then the chain downloaded.
 * acme-client's `auto` drives the protocol; its own pre-check of the proof is skipped because this
 * machine may not resolve its public name the way the CA does (split horizon, NAT).
 */
import acme from 'acme-client';
import type { ChallengeResponder } from './challenges/types.ts';
import { AcmeError } from './errors.ts';

export interface IssuedCertificate {
  /** The chain in PEM, leaf first. */
  chainPem: string;
  keyPem: string;
}

/** acme-client's messages carry the CA's problem document as JSON: keep its detail, for users. */
export function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const json = /\{.*\}/s.exec(message)?.[0];
  if (json) {
    try {
      const problem = JSON.parse(json) as { detail?: string; type?: string };
      if (problem.detail) return `${message.slice(0, message.indexOf(json)).trim()} ${problem.detail}`.trim();
    } catch {
      // Not JSON after all: the message as it is.
    }
  }
  return message;
}

export async function orderCertificate(
  client: acme.Client,
  names: string[],
  responder: ChallengeResponder,
): Promise<IssuedCertificate> {
  const key = await acme.crypto.createPrivateRsaKey(2048);
  const [, csr] = await acme.crypto.createCsr({ commonName: names[0], altNames: names }, key);
  try {
    const chainPem = await client.auto({
      csr,
      termsOfServiceAgreed: true,
      skipChallengeVerification: true,
      challengePriority: [responder.acmeType],
      challengeCreateFn: (authz, challenge, keyAuthorization) =>
        responder.present({ identifier: authz.identifier.value, token: challenge.token, keyAuthorization }),
      challengeRemoveFn: (authz, challenge, keyAuthorization) =>
        responder.cleanup({ identifier: authz.identifier.value, token: challenge.token, keyAuthorization }),
    });
    return { chainPem, keyPem: key.toString() };
  } catch (error) {
    throw new AcmeError('order_failed', `the CA did not issue the certificate: ${describeFailure(error)}`);
  } finally {
    await responder.close();
  }
}
