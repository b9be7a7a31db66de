/**
 * Message bodies, stored once per SHA-256 with a reference count. A blob is deleted in the same
 * transaction that drops its last reference, so there is no separate garbage collector to race.
 */
import { createHash } from 'node:crypto';
import { indexMessage } from '../../mime/index.ts';
import { messagePreview } from '../../mime/preview.ts';
import type { MimeIndex } from '../../mime/types.ts';
import type { SortFields } from '../types.ts';
import { StoreError } from '../errors.ts';
import type { Sql } from './database.ts';

/** A body ready to be stored: hashed, and indexed unless the database already has it. */
export interface PreparedBlob {
  hash: string;
  raw: Buffer;
  /** JSON of the MIME index; undefined when not computed yet, null when indexing failed. */
  indexJson: string | null | undefined;
  /** The RFC 8970 preview; undefined when not computed yet, null when indexing failed. */
  preview: string | null | undefined;
}

export function sha256Hex(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

/**
 * Indexes a body and computes its preview (RFC 8970 asks for it once, at delivery). A body the
 * indexer cannot handle is still stored (raw bytes are what matters); its index and preview are
 * left null and rebuilt on first read, where the error then surfaces.
 */
function analyse(raw: Buffer): { indexJson: string | null; preview: string | null } {
  try {
    const index = indexMessage(raw);
    return { indexJson: JSON.stringify(index), preview: messagePreview(raw, index) };
  } catch {
    return { indexJson: null, preview: null };
  }
}

export function blobExists(sql: Sql, hash: string): boolean {
  return sql.get('SELECT 1 FROM blobs WHERE hash = ?', hash) !== undefined;
}

/**
 * Hashes the body and indexes it when the blob is not stored yet. Runs outside the write
 * transaction, so the (comparatively slow) parsing does not hold the database lock.
 */
export function prepareBlob(sql: Sql, raw: Buffer): PreparedBlob {
  const hash = sha256Hex(raw);
  if (blobExists(sql, hash)) return { hash, raw, indexJson: undefined, preview: undefined };
  return { hash, raw, ...analyse(raw) };
}

/** Adds one reference, inserting the blob when it is new (or was collected since prepareBlob). */
export function addBlobReference(sql: Sql, blob: PreparedBlob): void {
  const updated = sql.run('UPDATE blobs SET refcount = refcount + 1 WHERE hash = ?', blob.hash).changes;
  if (updated > 0) return;
  const { indexJson, preview } = blob.indexJson === undefined ? analyse(blob.raw) : blob;
  sql.run(
    'INSERT INTO blobs (hash, refcount, size, mime_index, preview, data) VALUES (?, 1, ?, ?, ?, ?)',
    blob.hash,
    blob.raw.length,
    indexJson,
    preview ?? null,
    blob.raw,
  );
}

/** Adds references to a blob that is known to exist (copies share the body, no bytes copied). */
export function addBlobReferences(sql: Sql, hash: string, count: number): void {
  sql.run('UPDATE blobs SET refcount = refcount + ? WHERE hash = ?', count, hash);
}

/** Drops references and deletes the blob with its last one. */
export function releaseBlob(sql: Sql, hash: string, count = 1): void {
  sql.run('UPDATE blobs SET refcount = refcount - ? WHERE hash = ?', count, hash);
  sql.run('DELETE FROM blobs WHERE hash = ? AND refcount <= 0', hash);
}

export function readBlob(sql: Sql, hash: string): Buffer {
  const row = sql.get<{ data: Buffer }>('SELECT data FROM blobs WHERE hash = ?', hash);
  if (!row) throw new StoreError('NONEXISTENT', `no such blob ${hash}`);
  return row.data;
}

/** Hashes per statement in readBlobs: a handful of statements for a FETCH batch, each bounded. */
const READ_CHUNK = 256;

/**
 * Several blobs in few statements (one per READ_CHUNK hashes, the list passed as one JSON
 * parameter so a single prepared statement serves every size). Missing blobs are left out.
 */
export function readBlobs(sql: Sql, hashes: readonly string[]): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  const unique = [...new Set(hashes)];
  for (let start = 0; start < unique.length; start += READ_CHUNK) {
    const chunk = unique.slice(start, start + READ_CHUNK);
    const rows =
      chunk.length === 1
        ? sql.all<{ hash: string; data: Buffer }>('SELECT hash, data FROM blobs WHERE hash = ?', chunk[0])
        : sql.all<{ hash: string; data: Buffer }>(
            'SELECT hash, data FROM blobs WHERE hash IN (SELECT value FROM json_each(?))',
            JSON.stringify(chunk),
          );
    for (const row of rows) found.set(row.hash, row.data);
  }
  return found;
}

/**
 * MIME indexes of several bodies in few statements (as readBlobs), for SEARCH, SORT and THREAD
 * batches: one database round trip per message would make their cost grow with the mailbox.
 * Gone bodies are absent; a body whose index is missing is indexed again (readMimeIndex).
 */
export function readMimeIndexes(sql: Sql, hashes: readonly string[]): Map<string, MimeIndex> {
  const found = new Map<string, MimeIndex>();
  const unique = [...new Set(hashes)];
  for (let start = 0; start < unique.length; start += READ_CHUNK) {
    const rows = sql.all<{ hash: string; mime_index: string | null }>(
      'SELECT hash, mime_index FROM blobs WHERE hash IN (SELECT value FROM json_each(?))',
      JSON.stringify(unique.slice(start, start + READ_CHUNK)),
    );
    for (const row of rows) {
      found.set(
        row.hash,
        row.mime_index === null ? readMimeIndex(sql, row.hash) : (JSON.parse(row.mime_index) as MimeIndex),
      );
    }
  }
  return found;
}

/**
 * What SORT and THREAD read of several MIME indexes, picked out by SQLite (json_extract) so that
 * neither the whole index is parsed here nor copied to the caller's thread: a tenth of the bytes.
 * `references` stays undefined for indexes stored before it was kept (json_type: no such key).
 */
export function readSortFields(sql: Sql, hashes: readonly string[]): Map<string, SortFields> {
  const found = new Map<string, SortFields>();
  const unique = [...new Set(hashes)];
  for (let start = 0; start < unique.length; start += READ_CHUNK) {
    const rows = sql.all<{ hash: string; fields: string | null; refs_type: string | null }>(
      `SELECT hash,
              json_extract(mime_index, '$.envelope', '$.date', '$.references', '$.root.bodyStart') AS fields,
              json_type(mime_index, '$.references') AS refs_type
         FROM blobs WHERE hash IN (SELECT value FROM json_each(?))`,
      JSON.stringify(unique.slice(start, start + READ_CHUNK)),
    );
    for (const row of rows) {
      if (row.fields === null) {
        found.set(row.hash, readMimeIndex(sql, row.hash));
        continue;
      }
      const [envelope, date, references, bodyStart] = JSON.parse(row.fields) as [
        SortFields['envelope'],
        number | null,
        string | null,
        number,
      ];
      found.set(row.hash, {
        envelope,
        date,
        root: { bodyStart },
        ...(row.refs_type !== null && { references }),
      });
    }
  }
  return found;
}

/** The first bytes of several blobs: only those cross to the caller (substr on a blob counts bytes). */
export function readBlobHeads(
  sql: Sql,
  heads: ReadonlyArray<{ blobId: string; bytes: number }>,
): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  for (let start = 0; start < heads.length; start += READ_CHUNK) {
    const chunk = heads.slice(start, start + READ_CHUNK).map(({ blobId, bytes }) => [blobId, bytes]);
    const rows = sql.all<{ hash: string; data: Buffer }>(
      `SELECT hash, substr(data, 1, json_extract(wanted.value, '$[1]')) AS data
         FROM json_each(?) AS wanted JOIN blobs ON blobs.hash = json_extract(wanted.value, '$[0]')`,
      JSON.stringify(chunk),
    );
    for (const row of rows) found.set(row.hash, Buffer.from(row.data));
  }
  return found;
}

export function readMimeIndex(sql: Sql, hash: string): MimeIndex {
  const row = sql.get<{ mime_index: string | null }>('SELECT mime_index FROM blobs WHERE hash = ?', hash);
  if (!row) throw new StoreError('NONEXISTENT', `no such blob ${hash}`);
  if (row.mime_index !== null) return JSON.parse(row.mime_index) as MimeIndex;
  // Indexing failed at append time: try again (the indexer may have been fixed), and let the
  // error surface this time.
  const index = indexMessage(readBlob(sql, hash));
  sql.run('UPDATE blobs SET mime_index = ? WHERE hash = ?', JSON.stringify(index), hash);
  return index;
}

/**
 * The previews (RFC 8970) of several bodies in few statements; gone bodies are absent. A body
 * stored before previews were kept (or whose indexing failed) gets its preview computed now and
 * saved, so each body's preview is computed once.
 */
export function readPreviews(sql: Sql, hashes: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  const unique = [...new Set(hashes)];
  for (let start = 0; start < unique.length; start += READ_CHUNK) {
    const rows = sql.all<{ hash: string; preview: string | null }>(
      'SELECT hash, preview FROM blobs WHERE hash IN (SELECT value FROM json_each(?))',
      JSON.stringify(unique.slice(start, start + READ_CHUNK)),
    );
    for (const row of rows) found.set(row.hash, row.preview ?? savePreview(sql, row.hash));
  }
  return found;
}

function savePreview(sql: Sql, hash: string): string {
  const preview = messagePreview(readBlob(sql, hash), readMimeIndex(sql, hash));
  sql.run('UPDATE blobs SET preview = ? WHERE hash = ?', preview, hash);
  return preview;
}
