/**
 * Message bodies, stored once per SHA-256 and reference-counted, without transactions.
 *
 * A body up to CHUNK_BYTES is kept inline in its `blobs` document; a larger one in `blob_chunks`
 * (CHUNK_BYTES each), written before the `blobs` document that makes it visible. Each stored copy
 * of a body has a random `gen`, and chunks carry it.
 *
 * The protocol (safe against any interleaving of appends, copies, deletions and crashes):
 * - Add a reference: `$inc refs` where `refs > 0`. A blob at 0 is dead: nothing may revive it.
 *   When no live blob matched, store the body anew (chunks under a fresh gen, then insert the
 *   document with refs 1). If the insert hits the unique _id, either another writer stored it
 *   meanwhile (then take a reference on that one) or a dead blob is still there (then finish its
 *   collection, which is idempotent, and insert again).
 * - Drop a reference: `$inc refs -1`, returning the document before. Whoever takes it from 1 to 0
 *   collects it: deletes the chunks of that gen, then the document where `refs <= 0` and `gen` is
 *   still that gen. Anybody who finds a dead blob may do the same; doing it twice is harmless.
 * - So an append racing the deletion of the last reference never attaches to a dying copy (its
 *   `refs > 0` condition fails) and never loses its own chunks (the collector deletes by the dead
 *   copy's gen only).
 * - References are added before the message document that holds them is inserted, and dropped
 *   only after it was deleted (by whoever's delete actually removed it). A crash in between leaves
 *   a count too high, never too low: a body may leak, but is never freed while a message needs it.
 *   Chunks written by a writer that died before inserting the document are orphans of an unknown
 *   gen: they leak the same way.
 */
import { createHash, randomBytes } from 'node:crypto';
import { indexMessage, searchableWords } from '../../mime/index.ts';
import { messagePreview } from '../../mime/preview.ts';
import type { MimeIndex } from '../../mime/types.ts';
import { StoreError } from '../errors.ts';
import { isDuplicateKey, type BlobDoc, type Collections } from './schema.ts';

/** Chunk size of large bodies, and the largest body kept inline in its blob document. */
export const CHUNK_BYTES = 255 * 1024;
/** Hashes per query in readBlobs. */
const READ_BATCH = 256;
/** Attempts at storing a body against concurrent collectors before giving up. */
const MAX_STORE_ATTEMPTS = 20;

export function sha256Hex(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

/** A body ready to be stored: hashed; its MIME index is computed when it turns out to be new. */
export interface PreparedBlob {
  hash: string;
  raw: Buffer;
}

export function prepareBlob(raw: Buffer): PreparedBlob {
  return { hash: sha256Hex(raw), raw };
}

/** Bodies larger than this get no word list (decoding them would hold the event loop too long). */
export const MAX_WORDS_BODY_BYTES = 8 * 1024 * 1024;

/**
 * The MIME index as JSON (null when the indexer fails: stored anyway, rebuilt on first read), the
 * RFC 8970 preview (computed once, here) and the body's searchable words for the text index
 * (text-search.ts); `words` is null when they could not all be listed, and such a body is a
 * candidate for every text search.
 */
function indexAndWordsOf(raw: Buffer): {
  indexJson: string | null;
  preview: string | null;
  words: string[] | null;
} {
  try {
    const index = indexMessage(raw);
    return {
      indexJson: JSON.stringify(index),
      preview: messagePreview(raw, index),
      words: raw.length <= MAX_WORDS_BODY_BYTES ? searchableWords(raw, index) : null,
    };
  } catch {
    return { indexJson: null, preview: null, words: null };
  }
}

/** Adds `count` references to a live blob; false when there is none. */
export async function addReferences(collections: Collections, hash: string, count: number): Promise<boolean> {
  const result = await collections.blobs.updateOne(
    { _id: hash, refs: { $gt: 0 } },
    { $inc: { refs: count } },
  );
  return result.matchedCount === 1;
}

/** Adds one reference to the body, storing it when no live copy exists. */
export async function addBlobReference(collections: Collections, blob: PreparedBlob): Promise<void> {
  let indexed: ReturnType<typeof indexAndWordsOf> | undefined;
  for (let attempt = 0; attempt < MAX_STORE_ATTEMPTS; attempt++) {
    if (await addReferences(collections, blob.hash, 1)) return;
    indexed ??= indexAndWordsOf(blob.raw);
    const gen = randomBytes(8).toString('hex');
    const chunked = blob.raw.length > CHUNK_BYTES;
    if (chunked) await writeChunks(collections, blob, gen);
    try {
      await collections.blobs.insertOne(newBlobDoc(blob, gen, indexed));
      return;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    // Someone else's copy is there: live (take a reference next round) or dead (collect it).
    if (chunked) await collections.chunks.deleteMany({ blob: blob.hash, gen });
    const existing = await collections.blobs.findOne({ _id: blob.hash }, { projection: { data: 0 } });
    if (existing && existing.refs <= 0) await collect(collections, existing.gen, blob.hash);
  }
  throw new StoreError('UNAVAILABLE', `could not store body ${blob.hash} (too much contention)`);
}

/**
 * Adds one reference per entry of `blobs` (a body may come more than once), as addBlobReference
 * does for each, in a few commands for the whole batch: one query for the live ones among them,
 * one $inc each of those, and the new ones stored with one insertMany of their chunks and one of
 * their documents. A body someone else stored or collected meanwhile (a duplicate key, a live copy
 * gone) goes through addBlobReference on its own.
 */
export async function addBlobReferences(
  collections: Collections,
  blobs: readonly PreparedBlob[],
): Promise<void> {
  const counts = new Map<string, { blob: PreparedBlob; count: number }>();
  for (const blob of blobs) {
    const entry = counts.get(blob.hash);
    if (entry) entry.count++;
    else counts.set(blob.hash, { blob, count: 1 });
  }
  if (counts.size === 0) return;
  const live = await collections.blobs
    .find({ _id: { $in: [...counts.keys()] }, refs: { $gt: 0 } }, { projection: { _id: 1 } })
    .toArray();
  const retry: Array<{ blob: PreparedBlob; count: number }> = [];
  await Promise.all(
    live.map(async ({ _id }) => {
      const entry = counts.get(_id)!;
      counts.delete(_id);
      if (!(await addReferences(collections, _id, entry.count))) retry.push(entry);
    }),
  );
  const fresh = [...counts.values()];
  // A slice at a time: the documents of new bodies (their MIME index and word list) are held
  // only for one insertMany.
  for (let start = 0; start < fresh.length; start += NEW_BLOBS_PER_INSERT) {
    retry.push(...(await storeNewBlobs(collections, fresh.slice(start, start + NEW_BLOBS_PER_INSERT))));
  }
  for (const { blob, count } of retry) {
    for (let n = 0; n < count; n++) await addBlobReference(collections, blob);
  }
}

/** New bodies stored per insertMany by addBlobReferences. */
const NEW_BLOBS_PER_INSERT = 32;

/**
 * Stores bodies no live copy of was found: chunks, then documents (with their reference counts).
 * Returns those another writer stored (or a dead copy held) meanwhile, for addBlobReference.
 */
async function storeNewBlobs(
  collections: Collections,
  fresh: ReadonlyArray<{ blob: PreparedBlob; count: number }>,
): Promise<Array<{ blob: PreparedBlob; count: number }>> {
  const gen = randomBytes(8).toString('hex');
  const chunks = fresh.flatMap(({ blob }) => (blob.raw.length > CHUNK_BYTES ? chunkDocs(blob, gen) : []));
  if (chunks.length > 0) await collections.chunks.insertMany(chunks, { ordered: false });
  const docs: BlobDoc[] = fresh.map(({ blob, count }) => ({ ...newBlobDoc(blob, gen), refs: count }));
  try {
    if (docs.length > 0) await collections.blobs.insertMany(docs, { ordered: false });
    return [];
  } catch (error) {
    const refused = duplicateIndexes(error);
    for (const index of refused) {
      const { blob } = fresh[index]!;
      if (blob.raw.length > CHUNK_BYTES) await collections.chunks.deleteMany({ blob: blob.hash, gen });
    }
    return refused.map((index) => fresh[index]!);
  }
}

/** Indexes of the documents an unordered insertMany refused as duplicates; rethrows anything else. */
function duplicateIndexes(error: unknown): number[] {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  if (list.length === 0 || !list.every((e: { code?: unknown }) => isDuplicateKey(e))) throw error;
  return list.map((e: { index: number }) => e.index);
}

/** The document of a body stored anew under `gen` with one reference. */
function newBlobDoc(
  blob: PreparedBlob,
  gen: string,
  indexed: ReturnType<typeof indexAndWordsOf> = indexAndWordsOf(blob.raw),
): BlobDoc {
  const chunked = blob.raw.length > CHUNK_BYTES;
  return {
    _id: blob.hash,
    refs: 1,
    size: blob.raw.length,
    gen,
    chunks: chunked ? Math.ceil(blob.raw.length / CHUNK_BYTES) : 0,
    mimeIndex: indexed.indexJson,
    ...(indexed.preview === null ? {} : { preview: indexed.preview }),
    ...(indexed.words ? { words: indexed.words, wordsListed: true } : { wordsListed: false }),
    createdAt: new Date(),
    ...(chunked ? {} : { data: blob.raw }),
  };
}

function chunkDocs(blob: PreparedBlob, gen: string) {
  const docs = [];
  for (let n = 0, offset = 0; offset < blob.raw.length; n++, offset += CHUNK_BYTES) {
    docs.push({ blob: blob.hash, gen, n, data: blob.raw.subarray(offset, offset + CHUNK_BYTES) });
  }
  return docs;
}

async function writeChunks(collections: Collections, blob: PreparedBlob, gen: string): Promise<void> {
  await collections.chunks.insertMany(chunkDocs(blob, gen), { ordered: true });
}

/** Drops `count` references; the one that drops the last collects the blob. */
export async function releaseBlob(collections: Collections, hash: string, count = 1): Promise<void> {
  const before = await collections.blobs.findOneAndUpdate(
    { _id: hash },
    { $inc: { refs: -count } },
    { returnDocument: 'before', projection: { refs: 1, gen: 1 } },
  );
  if (before && before.refs - count <= 0) await collect(collections, before.gen, hash);
}

/** Removes a dead blob copy: its chunks first, then its document (only if still dead and the same copy). */
async function collect(collections: Collections, gen: string, hash: string): Promise<void> {
  await collections.chunks.deleteMany({ blob: hash, gen });
  await collections.blobs.deleteOne({ _id: hash, gen, refs: { $lte: 0 } });
}

// --- reading ---

type LiveBlob = Pick<BlobDoc, '_id' | 'gen' | 'chunks' | 'size' | 'data'>;

async function assemble(collections: Collections, blob: LiveBlob): Promise<Buffer | null> {
  if (blob.chunks === 0) return blob.data ?? Buffer.alloc(0);
  const chunks = await collections.chunks
    .find({ blob: blob._id, gen: blob.gen }, { projection: { n: 1, data: 1 } })
    .sort({ n: 1 })
    .toArray();
  // Collected while we read: the caller looks again.
  if (chunks.length !== blob.chunks) return null;
  const raw = Buffer.concat(chunks.map((chunk) => chunk.data));
  return raw.length === blob.size ? raw : null;
}

export async function readBlob(collections: Collections, hash: string): Promise<Buffer> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const blob = await collections.blobs.findOne(
      { _id: hash, refs: { $gt: 0 } },
      { projection: { mimeIndex: 0 } },
    );
    if (!blob) break;
    const raw = await assemble(collections, blob);
    if (raw) return raw;
  }
  throw new StoreError('NONEXISTENT', `no such blob ${hash}`);
}

/** Several bodies in few queries; missing ones are left out. */
export async function readBlobs(
  collections: Collections,
  hashes: readonly string[],
): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  const unique = [...new Set(hashes.filter((hash) => typeof hash === 'string'))];
  for (let start = 0; start < unique.length; start += READ_BATCH) {
    const batch = unique.slice(start, start + READ_BATCH);
    const blobs = await collections.blobs
      .find({ _id: { $in: batch }, refs: { $gt: 0 } }, { projection: { mimeIndex: 0 } })
      .toArray();
    for (const blob of blobs) {
      const raw =
        blob.chunks === 0 ? (blob.data ?? Buffer.alloc(0)) : await readBlobOrNull(collections, blob);
      if (raw) found.set(blob._id, raw);
    }
  }
  return found;
}

/**
 * The first bytes of several bodies, in the queries readBlobs makes: a body lives in its blob
 * document (or its chunks), so the whole of it is read here and cut.
 */
export async function readBlobHeads(
  collections: Collections,
  heads: ReadonlyArray<{ blobId: string; bytes: number }>,
): Promise<Map<string, Buffer>> {
  const bodies = await readBlobs(
    collections,
    heads.map((head) => head.blobId),
  );
  const found = new Map<string, Buffer>();
  for (const { blobId, bytes } of heads) {
    const raw = bodies.get(blobId);
    if (raw) found.set(blobId, raw.subarray(0, bytes));
  }
  return found;
}

async function readBlobOrNull(collections: Collections, blob: LiveBlob): Promise<Buffer | null> {
  const raw = await assemble(collections, blob);
  if (raw) return raw;
  try {
    return await readBlob(collections, blob._id);
  } catch {
    return null;
  }
}

export async function readMimeIndex(collections: Collections, hash: string): Promise<MimeIndex> {
  const blob = await collections.blobs.findOne(
    { _id: hash, refs: { $gt: 0 } },
    { projection: { mimeIndex: 1 } },
  );
  if (!blob) throw new StoreError('NONEXISTENT', `no such blob ${hash}`);
  if (blob.mimeIndex !== null && blob.mimeIndex !== undefined) return JSON.parse(blob.mimeIndex) as MimeIndex;
  // Indexing failed when the body was stored: try again (the indexer may have been fixed), and let
  // the error surface this time.
  const index = indexMessage(await readBlob(collections, hash));
  await collections.blobs.updateOne({ _id: hash }, { $set: { mimeIndex: JSON.stringify(index) } });
  return index;
}

/**
 * MIME indexes of several bodies in one query (a SEARCH batch); absent from the map when the body
 * is gone. Bodies whose index is missing are indexed again one by one (rare).
 */
export async function readMimeIndexes(
  collections: Collections,
  hashes: readonly string[],
): Promise<Map<string, MimeIndex>> {
  const found = new Map<string, MimeIndex>();
  const unique = [...new Set(hashes.filter((hash) => typeof hash === 'string'))];
  for (let start = 0; start < unique.length; start += READ_BATCH) {
    const batch = unique.slice(start, start + READ_BATCH);
    const blobs = await collections.blobs
      .find({ _id: { $in: batch }, refs: { $gt: 0 } }, { projection: { mimeIndex: 1 } })
      .toArray();
    for (const blob of blobs) {
      if (blob.mimeIndex !== null && blob.mimeIndex !== undefined) {
        found.set(blob._id, JSON.parse(blob.mimeIndex) as MimeIndex);
      } else {
        found.set(blob._id, await readMimeIndex(collections, blob._id));
      }
    }
  }
  return found;
}

/**
 * The previews (RFC 8970) of several bodies in one query per batch; gone bodies are absent. A body
 * stored before previews were kept (or whose indexing failed) gets its preview computed now and
 * saved, so each body's preview is computed once.
 */
export async function readPreviews(
  collections: Collections,
  hashes: readonly string[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const unique = [...new Set(hashes.filter((hash) => typeof hash === 'string'))];
  for (let start = 0; start < unique.length; start += READ_BATCH) {
    const blobs = await collections.blobs
      .find(
        { _id: { $in: unique.slice(start, start + READ_BATCH) }, refs: { $gt: 0 } },
        { projection: { preview: 1 } },
      )
      .toArray();
    for (const blob of blobs) {
      if (typeof blob.preview === 'string') {
        found.set(blob._id, blob.preview);
        continue;
      }
      const preview = messagePreview(
        await readBlob(collections, blob._id),
        await readMimeIndex(collections, blob._id),
      );
      await collections.blobs.updateOne({ _id: blob._id }, { $set: { preview } });
      found.set(blob._id, preview);
    }
  }
  return found;
}
