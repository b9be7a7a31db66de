/**
 * The one spelling of a login name that every check keys on: the password look-up, the login
 * guard (per-account failures, known addresses) and the connection rules' lockout. A guesser must
 * not get fresh counters by padding the name with spaces, changing its case or sending another
 * Unicode composition of the same characters, so all three are folded here, once, before anything
 * else sees the name:
 *
 * - surrounding white space is removed (the store trims too, so " ann@x" logs in as "ann@x");
 * - Unicode NFC, so a decomposed "é" (e + U+0301) is the same name as the precomposed one;
 * - lower case, the whole name: both store engines keep user names lower-cased and compare them
 *   so (server/store/normalize.ts normalizeUsername), so the local part is case-insensitive here as
 *   well as the domain.
 */
export function loginKey(name: string): string {
  return name.normalize('NFC').trim().toLowerCase();
}
