/**
 * Signs an Apple configuration profile as iOS and macOS expect: CMS SignedData (PKCS #7) with the
 * profile inside, signed with the server certificate's key, the chain included so the device can
 * show "Verified" when it trusts the issuer. node-forge signs with RSA keys only, so a profile for
 * a server with an ECDSA certificate is served unsigned (the device says "Not signed" and installs
 * it all the same).
 */
import crypto from 'node:crypto';
import forge from 'node-forge';
import type { PemPair } from '../tls/context.ts';

/** The DER SignedData holding `content`, or null when the key is not RSA. */
export function signProfile(content: string, pair: PemPair): Buffer | null {
  const key = crypto.createPrivateKey(pair.key);
  if (key.asymmetricKeyType !== 'rsa') return null;
  const certificates = (
    pair.cert.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  ).map((pem) => forge.pki.certificateFromPem(pem));
  const leaf = certificates[0];
  if (!leaf) return null;
  const signed = forge.pkcs7.createSignedData();
  signed.content = forge.util.createBuffer(content, 'utf8');
  for (const certificate of certificates) signed.addCertificate(certificate);
  signed.addSigner({
    key: forge.pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }).toString()),
    certificate: leaf,
    digestAlgorithm: forge.pki.oids.sha256!,
    authenticatedAttributes: [
      { type: forge.pki.oids.contentType!, value: forge.pki.oids.data! },
      { type: forge.pki.oids.messageDigest! },
      { type: forge.pki.oids.signingTime!, value: new Date() as unknown as string },
    ],
  });
  signed.sign();
  return Buffer.from(forge.asn1.toDer(signed.toAsn1()).getBytes(), 'binary');
}
