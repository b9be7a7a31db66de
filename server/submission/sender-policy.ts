/**
 * Who a user may send as: their primary address and their aliases, both in the envelope (MAIL
 * FROM) and in the From header. A catch-all (`*@domain`) receives mail for a whole domain but
 * grants no right to send as any address in it: otherwise any household member could write as
 * any other.
 */
import addressparser from 'nodemailer/lib/addressparser';
import { parseHeaderFields, rawFieldValue } from '../mime/header.ts';
import { reply, type Reply } from '../smtp/replies.ts';
import type { Store, User } from '../store/types.ts';

/** The addresses `user` may send as, lower-cased. */
export async function sendableAddresses(store: Store, user: User): Promise<Set<string>> {
  const addresses = new Set([user.username.toLowerCase()]);
  for (const address of await store.listAddresses(user.id)) {
    if (address.kind !== 'catchall') addresses.add(address.address.toLowerCase());
  }
  return addresses;
}

/** The mailbox addresses of every From field of the message's header (groups flattened). */
export function fromHeaderAddresses(raw: Buffer): string[] {
  const fields = parseHeaderFields(raw, 0, raw.length).filter((field) => field.key === 'from');
  return fields.flatMap((field) =>
    addressparser(Buffer.from(rawFieldValue(raw, field), 'latin1').toString('utf8'), { flatten: true }).map(
      (mailbox) => mailbox.address.toLowerCase(),
    ),
  );
}

export const senderNotOwned = (address: string): Reply =>
  reply(553, '5.7.1', `<${address}>: Sender address not owned by the authenticated user`);

export const fromHeaderNotOwned = (address: string): Reply =>
  reply(553, '5.7.1', `From: <${address}> is not an address of the authenticated user`);

export const fromHeaderMissing = (): Reply => reply(550, '5.6.0', 'The message has no From header');

/** The reply refusing the header's From addresses, or null when the user owns them all. */
export function checkFromHeader(raw: Buffer, owned: ReadonlySet<string>): Reply | null {
  const addresses = fromHeaderAddresses(raw);
  if (addresses.length === 0) return fromHeaderMissing();
  const stranger = addresses.find((address) => !owned.has(address));
  return stranger === undefined ? null : fromHeaderNotOwned(stranger);
}
