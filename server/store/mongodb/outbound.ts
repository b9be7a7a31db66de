/**
 * The outbound queue on MongoDB (Store.enqueueOutbound and friends), without transactions: one
 * document per message with its recipients inside, so every change is a single-document write.
 * A lease is taken by a conditional update (free, ours, or expired); a recipient's result is
 * written by a compare-and-set on the document's `version`, so a retry from the admin and a
 * worker's result cannot overwrite each other.
 */
import type { Collection } from 'mongodb';
import { StoreError } from '../errors.ts';
import {
  checkNewOutbound,
  checkOutboundHolder,
  isPending,
  messageDsnOf,
  newOutboundId,
  recipientDsnOf,
  type MessageDsn,
  type NewOutboundMessage,
  type OutboundMessage,
  type OutboundRecipient,
  type OutboundResult,
} from '../outbound.ts';
import type { Collections } from './schema.ts';

interface OutboundDoc {
  _id: string;
  userId: string | null;
  sender: string;
  raw: Buffer;
  size: number;
  createdAt: Date;
  leaseHolder: string | null;
  leaseUntil: Date;
  version: number;
  /** Absent on documents queued before DSN parameters were kept. */
  dsn?: MessageDsn;
  recipients: OutboundRecipient[];
}

/** Not on `Collections`: the queue keeps to its own collection and this module. */
function outbound(collections: Collections): Collection<OutboundDoc> {
  return collections.db.collection<OutboundDoc>('outbound');
}

const WITHOUT_RAW = { projection: { raw: 0 } } as const;

function messageOf(doc: Omit<OutboundDoc, 'raw'>): OutboundMessage {
  return {
    id: doc._id,
    userId: doc.userId,
    sender: doc.sender,
    size: doc.size,
    createdAt: doc.createdAt,
    dsn: { ret: doc.dsn?.ret ?? null, envid: doc.dsn?.envid ?? null },
    recipients: doc.recipients.map((recipient) => ({
      ...recipient,
      notify: recipient.notify ?? null,
      orcpt: recipient.orcpt ?? null,
    })),
  };
}

export async function ensureOutboundIndexes(collections: Collections): Promise<void> {
  await outbound(collections).createIndex({ 'recipients.nextAttemptAt': 1 });
}

export async function enqueueOutbound(
  collections: Collections,
  message: NewOutboundMessage,
): Promise<OutboundMessage> {
  const addresses = checkNewOutbound(message);
  const now = new Date();
  const doc: OutboundDoc = {
    _id: newOutboundId(),
    userId: message.userId,
    sender: message.sender,
    raw: message.raw,
    size: message.raw.length,
    createdAt: now,
    leaseHolder: null,
    leaseUntil: new Date(0),
    version: 0,
    dsn: messageDsnOf(message),
    recipients: addresses.map((address) => ({
      ...recipientDsnOf(message, address),
      address,
      state: 'queued',
      attempts: 0,
      nextAttemptAt: now,
      lastError: null,
      warned: false,
      updatedAt: now,
    })),
  };
  // The client's write concern (majority, journaled) makes this durable before a 250 is sent.
  await outbound(collections).insertOne(doc);
  return messageOf(doc);
}

/**
 * Not leased, or the lease lapsed. A message its own holder still leases is excluded too: that
 * holder is delivering it right now, and a second claim would send it twice.
 */
function leaseFree(now: Date) {
  return { $or: [{ leaseHolder: null }, { leaseUntil: { $lt: now } }] };
}

export async function claimOutbound(
  collections: Collections,
  holder: string,
  leaseMs: number,
  limit: number,
  now: Date,
): Promise<OutboundMessage[]> {
  checkOutboundHolder(holder, leaseMs);
  const candidates = await outbound(collections)
    .find({ 'recipients.nextAttemptAt': { $lte: now }, ...leaseFree(now) }, WITHOUT_RAW)
    .sort({ createdAt: 1 })
    .limit(Math.max(0, Math.floor(limit)))
    .toArray();
  const claimed: OutboundMessage[] = [];
  for (const candidate of candidates) {
    const taken = await outbound(collections).updateOne(
      { _id: candidate._id, ...leaseFree(now) },
      { $set: { leaseHolder: holder, leaseUntil: new Date(now.getTime() + leaseMs) } },
    );
    if (taken.modifiedCount === 1 || taken.matchedCount === 1) claimed.push(messageOf(candidate));
  }
  return claimed;
}

export async function recordOutbound(
  collections: Collections,
  id: string,
  holder: string,
  address: string,
  result: OutboundResult,
): Promise<boolean> {
  checkOutboundHolder(holder);
  // A few rounds: an admin's retry may bump the version between our read and our write.
  for (let round = 0; round < 5; round += 1) {
    const now = new Date();
    const doc = await outbound(collections).findOne(
      { _id: id, leaseHolder: holder, leaseUntil: { $gte: now } },
      WITHOUT_RAW,
    );
    if (!doc) return false;
    const index = doc.recipients.findIndex(
      (recipient) => recipient.address === address && isPending(recipient.state),
    );
    if (index < 0) return false;
    const current = doc.recipients[index]!;
    const recipients = [...doc.recipients];
    recipients[index] = {
      ...current,
      state: result.state,
      attempts: current.attempts + 1,
      nextAttemptAt: result.state === 'deferred' ? result.nextAttemptAt : null,
      lastError: result.state === 'delivered' ? current.lastError : result.error,
      warned: current.warned || (result.state === 'deferred' && result.warned === true),
      updatedAt: now,
    };
    const written = await outbound(collections).updateOne(
      { _id: id, version: doc.version, leaseHolder: holder },
      { $set: { recipients }, $inc: { version: 1 } },
    );
    if (written.matchedCount === 1) return true;
  }
  throw new StoreError('UNAVAILABLE', `Queued message ${id} kept changing; try again`);
}

export async function renewOutbound(
  collections: Collections,
  id: string,
  holder: string,
  leaseMs: number,
): Promise<boolean> {
  checkOutboundHolder(holder, leaseMs);
  const now = new Date();
  const renewed = await outbound(collections).updateOne(
    { _id: id, leaseHolder: holder, leaseUntil: { $gte: now } },
    { $set: { leaseUntil: new Date(now.getTime() + leaseMs) } },
  );
  return renewed.matchedCount === 1;
}

export async function releaseOutbound(collections: Collections, id: string, holder: string): Promise<void> {
  await outbound(collections).updateOne(
    { _id: id, leaseHolder: holder },
    { $set: { leaseHolder: null, leaseUntil: new Date(0) } },
  );
}

export async function readOutboundRaw(collections: Collections, id: string): Promise<Buffer> {
  const doc = await outbound(collections).findOne({ _id: id }, { projection: { raw: 1 } });
  if (!doc) throw new StoreError('NONEXISTENT', `No queued message ${id}`);
  const raw: unknown = doc.raw;
  // The driver gives a Buffer when the client promotes them, a Binary otherwise.
  if (Buffer.isBuffer(raw)) return raw;
  return Buffer.from((raw as { buffer: Uint8Array }).buffer);
}

export async function getOutbound(collections: Collections, id: string): Promise<OutboundMessage | null> {
  const doc = await outbound(collections).findOne({ _id: id }, WITHOUT_RAW);
  return doc ? messageOf(doc) : null;
}

export async function listOutbound(collections: Collections): Promise<OutboundMessage[]> {
  const docs = await outbound(collections).find({}, WITHOUT_RAW).sort({ createdAt: 1, _id: 1 }).toArray();
  return docs.map(messageOf);
}

export async function retryOutbound(collections: Collections, id: string): Promise<OutboundMessage> {
  for (let round = 0; round < 5; round += 1) {
    const doc = await outbound(collections).findOne({ _id: id }, WITHOUT_RAW);
    if (!doc) throw new StoreError('NONEXISTENT', `No queued message ${id}`);
    const now = new Date();
    const recipients = doc.recipients.map((recipient) =>
      isPending(recipient.state) ? { ...recipient, nextAttemptAt: now, updatedAt: now } : recipient,
    );
    const written = await outbound(collections).updateOne(
      { _id: id, version: doc.version },
      { $set: { recipients }, $inc: { version: 1 } },
    );
    if (written.matchedCount === 1) return messageOf({ ...doc, recipients });
  }
  throw new StoreError('UNAVAILABLE', `Queued message ${id} kept changing; try again`);
}

export async function deleteOutbound(collections: Collections, id: string): Promise<void> {
  const deleted = await outbound(collections).deleteOne({ _id: id });
  if (deleted.deletedCount === 0) throw new StoreError('NONEXISTENT', `No queued message ${id}`);
}
