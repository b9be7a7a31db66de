/**
 * A challenge responder: puts the proof for one identifier where the CA looks (RFC 8555 section 8)
 * and takes it away afterwards. One file per challenge type beside this one.
 */
export type ChallengeType = 'http-01' | 'tls-alpn-01' | 'dns-01' | 'manual';

export interface ChallengeTask {
  /** The DNS name being proved. */
  identifier: string;
  /** The challenge's token (HTTP-01 path, and how a task is told apart). */
  token: string;
  /**
   * What acme-client computed for this type: `token.thumbprint` for HTTP-01 and TLS-ALPN-01, the
   * base64url SHA-256 digest of it (the TXT value) for DNS-01.
   */
  keyAuthorization: string;
}

export interface ChallengeResponder {
  /** The RFC 8555 challenge type the CA is asked for (manual is dns-01 done by the operator). */
  readonly acmeType: 'http-01' | 'tls-alpn-01' | 'dns-01';
  present(task: ChallengeTask): Promise<void>;
  cleanup(task: ChallengeTask): Promise<void>;
  /** Closes anything still open (a listener) when a run ends or the server stops. */
  close(): Promise<void>;
}

/** `_acme-challenge.<name>`: where DNS-01 looks (RFC 8555 8.4). */
export function dnsChallengeName(identifier: string): string {
  return `_acme-challenge.${identifier.replace(/^\*\./, '')}`;
}
