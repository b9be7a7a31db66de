/**
 * SASL message parsing shared by IMAP AUTHENTICATE and POP3 AUTH: base64 responses and the PLAIN
 * message (RFC 4616). Each protocol turns a `SaslError` into its own reply.
 */
import { loginKey } from './login-key.ts';

export type SaslErrorKind = 'bad-base64' | 'malformed-plain' | 'authorization';

export class SaslError extends Error {
  constructor(
    readonly kind: SaslErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'SaslError';
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A client's base64 response, decoded as UTF-8. */
export function decodeSaslResponse(text: string): string {
  if (!BASE64.test(text) || text.length % 4 !== 0) {
    throw new SaslError('bad-base64', 'Invalid base64 in SASL response');
  }
  return Buffer.from(text, 'base64').toString('utf8');
}

/** `authzid NUL authcid NUL password`; acting as another user (authzid ≠ authcid) is refused. */
export function parsePlainMessage(message: string): [username: string, password: string] {
  const [authzid, authcid, password, extra] = message.split('\0');
  if (authcid === undefined || password === undefined || extra !== undefined) {
    throw new SaslError('malformed-plain', 'Malformed PLAIN response');
  }
  if (authzid && loginKey(authzid) !== loginKey(authcid)) {
    throw new SaslError('authorization', 'Acting as another user is not allowed');
  }
  return [authcid, password];
}
