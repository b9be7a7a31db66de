/** The IMAP import's progress on MongoDB (Store.saveImportProgress): a document per user, source, folder. */
import type { Collection } from 'mongodb';
import type { ImportProgress } from '../import-progress.ts';
import { requireUser } from './docs.ts';
import type { Collections } from './schema.ts';

interface ImportProgressDoc {
  _id: { user: number; source: string; folder: string };
  uidValidity: number;
  lastUid: number;
}

/** Not on `Collections`: the import keeps to its own collection and this module. */
function progressOf(collections: Collections): Collection<ImportProgressDoc> {
  return collections.db.collection<ImportProgressDoc>('import_progress');
}

export async function saveImportProgress(
  c: Collections,
  userId: number,
  progress: ImportProgress,
): Promise<void> {
  await requireUser(c, userId);
  await progressOf(c).replaceOne(
    { _id: { user: userId, source: progress.source, folder: progress.folder } },
    { uidValidity: progress.uidValidity, lastUid: progress.lastUid },
    { upsert: true },
  );
}

/** Forgets a deleted user's imports. */
export async function deleteImportProgressOf(c: Collections, userId: number): Promise<void> {
  await progressOf(c).deleteMany({ '_id.user': userId });
}

/** One source's folders, or every source's (by source, then folder) when `source` is null. */
export async function listImportProgress(
  c: Collections,
  userId: number,
  source: string | null,
): Promise<ImportProgress[]> {
  const filter = source === null ? { '_id.user': userId } : { '_id.user': userId, '_id.source': source };
  const docs = await progressOf(c).find(filter).toArray();
  const key = (p: ImportProgress) => `${p.source}\u0000${p.folder}`;
  return docs
    .map((doc) => ({
      source: doc._id.source,
      folder: doc._id.folder,
      uidValidity: doc.uidValidity,
      lastUid: doc.lastUid,
    }))
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
