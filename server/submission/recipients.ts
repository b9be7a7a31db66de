/**
 * Where a submitted recipient goes: a local user (stored at once, as LMTP would), or another
 * domain (the outbound queue). An unknown address of a domain we serve is refused at RCPT
 * (550 5.1.1) rather than bounced later: the user sees the typo while still in the client.
 */
import { domainOf, type LocalDomains } from '../smtp/local-domains.ts';
import { reply, unknownUser, type Reply } from '../smtp/replies.ts';
import type { Store } from '../store/types.ts';

export type RoutedRecipient =
  { kind: 'local'; address: string; userId: string } | { kind: 'remote'; address: string; domain: string };

/** RFC 5321 4.5.3.1.10: too many recipients is 452, and the client may send the rest later. */
export const tooManyRecipients = (max: number): Reply =>
  reply(452, '4.5.3', `Too many recipients (at most ${max} per message)`);

const badAddress = (address: string): Reply =>
  reply(501, '5.1.3', `<${address}>: Recipient address needs a domain`);

export async function routeRecipient(
  store: Store,
  localDomains: LocalDomains,
  address: string,
): Promise<RoutedRecipient | Reply> {
  const domain = domainOf(address);
  if (domain === '') return badAddress(address);
  const user = await store.resolveRecipient(address);
  if (user) return { kind: 'local', address, userId: user.id };
  if (await localDomains.has(domain)) return unknownUser(address);
  return { kind: 'remote', address, domain };
}
