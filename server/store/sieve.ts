/**
 * Sieve scripts and the Sieve memory in the store contract (Store.putSieveScript and friends): the
 * types both engines keep and the checks they share.
 *
 * A user has any number of named scripts and at most one active (RFC 5804's model, which
 * ManageSieve and `mallard sieve` show). The memory holds keys with an expiry per user: whom a
 * vacation reply went to, for how long (RFC 5230 4.2), and the ids the duplicate test has seen
 * (RFC 7352). Claiming a key is atomic across processes, so two deliveries at once send one reply.
 */
import { StoreError } from './errors.ts';

export interface SieveScriptRecord {
  userId: string;
  name: string;
  content: string;
  active: boolean;
  updatedAt: Date;
}

/** Larger scripts are refused (Pigeonhole's default sieve_max_script_size is 1 MiB). */
export const MAX_SIEVE_SCRIPT_BYTES = 1024 * 1024;
function isControl(char: string): boolean {
  const code = char.codePointAt(0)!;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
}

/** RFC 5804 1.6: a script name is UTF-8 without control characters; 1..128 characters here. */
export function checkSieveName(name: string): string {
  const chars = typeof name === 'string' ? [...name] : [];
  if (chars.length < 1 || chars.length > 128 || chars.some(isControl) || name.includes('/')) {
    throw new StoreError('INVALID', `invalid script name ${JSON.stringify(name)}`);
  }
  return name;
}

export function checkSieveContent(content: string): string {
  if (typeof content !== 'string') throw new StoreError('INVALID', 'a script is text');
  if (Buffer.byteLength(content, 'utf8') > MAX_SIEVE_SCRIPT_BYTES) {
    throw new StoreError('INVALID', `the script is larger than ${MAX_SIEVE_SCRIPT_BYTES} bytes`);
  }
  return content;
}

/** A live entry of a user's Sieve memory (a vacation reply sent, a duplicate id seen). */
export interface SieveMemoryEntry {
  key: string;
  expiresAt: Date;
}

export function checkSieveMemoryKey(key: string): string {
  if (typeof key !== 'string' || key === '' || key.length > 2048) {
    throw new StoreError('INVALID', 'a Sieve memory key is 1..2048 characters');
  }
  return key;
}
