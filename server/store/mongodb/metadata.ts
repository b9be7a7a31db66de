/**
 * METADATA entries (RFC 5464) on MongoDB: an array on the mailbox's document (so a rename carries
 * it and a deleted mailbox takes it along), or on the user's document for the server entries.
 * A change is a compare-and-set on `metadataVersion`, so several entries change together or not
 * at all, and two concurrent SETMETADATA never lose one another's entries.
 */
import type { Collection } from 'mongodb';
import { StoreError } from '../errors.ts';
import { normalizeMailboxPath } from '../normalize.ts';
import type { MetadataChange, MetadataEntry } from '../types.ts';
import { backoff, requireUser } from './docs.ts';
import { writeJournal } from './journal.ts';
import { mailboxByPath } from './mailboxes.ts';
import type { Collections, MetadataDoc } from './schema.ts';

const MAX_ATTEMPTS = 20;

interface Holder {
  _id: number;
  metadata?: MetadataDoc[];
  metadataVersion?: number;
}

/** The document holding the entries of `path` ("" is the server) and its collection. */
async function holderOf(
  c: Collections,
  userId: number,
  path: string,
): Promise<{ collection: Collection<Holder>; doc: Holder }> {
  const user = await requireUser(c, userId);
  if (path === '') return { collection: c.users as unknown as Collection<Holder>, doc: user };
  const normalized = normalizeMailboxPath(path);
  const mailbox = await mailboxByPath(c, userId, normalized);
  if (!mailbox) throw new StoreError('NONEXISTENT', `no such mailbox ${normalized}`);
  return { collection: c.mailboxes as unknown as Collection<Holder>, doc: mailbox };
}

/** The driver gives a Buffer when the client promotes them, a Binary otherwise. */
function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return Buffer.from((value as { buffer: Uint8Array }).buffer);
}

function entriesOf(doc: Holder): MetadataEntry[] {
  return (doc.metadata ?? [])
    .map((entry) => ({ name: entry.name, value: bytesOf(entry.value) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function getMetadata(c: Collections, userId: number, path: string): Promise<MetadataEntry[]> {
  return entriesOf((await holderOf(c, userId, path)).doc);
}

export async function setMetadata(
  c: Collections,
  userId: number,
  path: string,
  changes: readonly MetadataChange[],
  maxEntries: number,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const { collection, doc } = await holderOf(c, userId, path);
    const entries = new Map(entriesOf(doc).map((entry) => [entry.name, entry.value]));
    for (const { name, value } of changes) {
      if (value === null) entries.delete(name);
      else entries.set(name, value);
    }
    if (entries.size > maxEntries) throw new StoreError('LIMIT', `more than ${maxEntries} metadata entries`);
    const metadata = [...entries].map(([name, value]) => ({ name, value: Buffer.from(value) }));
    const version = doc.metadataVersion ?? 0;
    const result = await collection.updateOne(
      { _id: doc._id, metadataVersion: version === 0 ? { $exists: false } : version },
      { $set: { metadata, metadataVersion: version + 1 } },
    );
    if (result.matchedCount === 1) {
      // After the change (no transactions): NOTIFY's metadata events in every process.
      await writeJournal(c, userId, [
        {
          userId,
          mailboxId: path === '' ? 0 : doc._id,
          kind: 'metadata-change',
          path: path === '' ? '' : normalizeMailboxPath(path),
          flags: changes.map((change) => change.name),
        },
      ]);
      return;
    }
    await backoff(attempt);
  }
  throw new StoreError('UNAVAILABLE', 'metadata changed too often meanwhile: try again');
}
