/**
 * URLAUTH keys (RFC 4467) on MongoDB: a field of the mailbox's document, so a RENAME keeps the key
 * and DELETE takes it. A key is set only where none is (one atomic update), so two processes
 * asking at the same time end up with the same key.
 */
import crypto from 'node:crypto';
import { StoreError } from '../errors.ts';
import type { Collections } from './schema.ts';

const URLAUTH_KEY_BYTES = 32;

/** The driver gives a Buffer when the client promotes them, a Binary otherwise. */
function bufferOf(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  return Buffer.from((value as { buffer: Uint8Array }).buffer);
}

export async function urlAuthKey(c: Collections, mailboxId: number, create: boolean): Promise<Buffer | null> {
  const selectable = { _id: mailboxId, selectable: true };
  let doc = await c.mailboxes.findOne(selectable, { projection: { urlAuthKey: 1 } });
  if (!doc) throw new StoreError('NONEXISTENT', `no such mailbox ${mailboxId}`);
  if (doc.urlAuthKey === undefined && create) {
    await c.mailboxes.updateOne(
      { ...selectable, urlAuthKey: { $exists: false } },
      { $set: { urlAuthKey: crypto.randomBytes(URLAUTH_KEY_BYTES) } },
    );
    doc = await c.mailboxes.findOne(selectable, { projection: { urlAuthKey: 1 } });
    if (!doc) throw new StoreError('NONEXISTENT', `no such mailbox ${mailboxId}`);
  }
  return doc.urlAuthKey === undefined ? null : bufferOf(doc.urlAuthKey);
}

export async function resetUrlAuthKeys(
  c: Collections,
  userId: number,
  mailboxId: number | null,
): Promise<void> {
  if (mailboxId === null) {
    await c.mailboxes.updateMany({ user: userId }, { $unset: { urlAuthKey: '' } });
    return;
  }
  const result = await c.mailboxes.updateOne(
    { _id: mailboxId, user: userId },
    { $unset: { urlAuthKey: '' } },
  );
  if (result.matchedCount === 0) throw new StoreError('NONEXISTENT', `no such mailbox ${mailboxId}`);
}
