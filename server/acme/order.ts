/**
 * One order (RFC 8555 7.4): a new key for the certificate (RSA 2048: every mail client takes it),
 * every authorization proved by the responder, the CSR finalized, the chain downloaded.
 *
 * Driven step by step with acme-client's Client rather than its `auto()`: auto reads the names
 * back out of the CSR with @peculiar/x509, which breaks when npm installs two copies of
 * @peculiar/asn1-x509 (mailauth pins an older one), and it proves one name at a time where the
 * manual DNS step must show all records at once. Its own pre-check of the proof is not done here
 * either: this machine may not resolve its public name the way the CA does (split horizon, NAT).
 */
import acme from 'acme-client';
import type { ChallengeResponder, ChallengeTask } from './challenges/types.ts';
import { AcmeError } from './errors.ts';

export interface IssuedCertificate {
  /** The chain in PEM, leaf first. */
  chainPem: string;
  keyPem: string;
}

type Challenge = acme.Authorization['challenges'][number];

/** Presents the proof for each pending authorization; returns what to complete and clean up. */
async function presentAll(
  client: acme.Client,
  authorizations: acme.Authorization[],
  responder: ChallengeResponder,
): Promise<Array<{ task: ChallengeTask; challenge: Challenge; authz: acme.Authorization }>> {
  const pending = authorizations.filter((authz) => authz.status !== 'valid');
  return Promise.all(
    pending.map(async (authz) => {
      const identifier = authz.identifier.value;
      const challenge = authz.challenges.find((candidate) => candidate.type === responder.acmeType);
      if (!challenge) {
        throw new Error(
          `the CA offers no ${responder.acmeType} challenge for ${identifier} (offered: ${authz.challenges.map((c) => c.type).join(', ')})`,
        );
      }
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      const task = { identifier, token: challenge.token, keyAuthorization };
      await responder.present(task);
      return { task, challenge, authz };
    }),
  );
}

export async function orderCertificate(
  client: acme.Client,
  names: string[],
  responder: ChallengeResponder,
): Promise<IssuedCertificate> {
  const key = await acme.crypto.createPrivateRsaKey(2048);
  const [, csr] = await acme.crypto.createCsr({ commonName: names[0], altNames: names }, key);
  let presented: Awaited<ReturnType<typeof presentAll>> = [];
  try {
    const order = await client.createOrder({ identifiers: names.map((value) => ({ type: 'dns', value })) });
    const authorizations = await client.getAuthorizations(order);
    try {
      presented = await presentAll(client, authorizations, responder);
      await Promise.all(
        presented.map(async ({ task, challenge }) => {
          await client.completeChallenge(challenge);
          try {
            await client.waitForValidStatus(challenge);
          } catch (error) {
            throw new Error(`${task.identifier}: ${(error as Error).message}`);
          }
        }),
      );
    } catch (error) {
      // Authorizations left pending would be reused (or count against limits): give them up.
      await Promise.allSettled(
        authorizations
          .filter((authz) => authz.status === 'pending')
          .map((authz) => client.deactivateAuthorization(authz)),
      );
      throw error;
    } finally {
      await Promise.allSettled(presented.map(({ task }) => responder.cleanup(task)));
    }
    const finalized = await client.finalizeOrder(order, csr);
    const chainPem = await client.getCertificate(finalized);
    return { chainPem, keyPem: key.toString() };
  } catch (error) {
    if (error instanceof AcmeError) throw error;
    throw new AcmeError('order_failed', `the CA did not issue the certificate: ${(error as Error).message}`);
  } finally {
    await responder.close();
  }
}
