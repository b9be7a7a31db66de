/**
 * What goes between the server and its parse workers (pool.ts ↔ worker.ts): one task per message,
 * its bytes transferred rather than copied where the sender owns them.
 */
import type { MimeIndex } from '../../mime/index.ts';
import type { ContentNode } from '../search/evaluate.ts';

export type OffloadTask =
  /** The verdict of each SEARCH content key (HEADER, BODY, TEXT) on one message. */
  | { kind: 'search'; raw: Uint8Array; index: MimeIndex | null; nodes: ContentNode[] }
  /** A transfer-decoded body part (FETCH BINARY): `raw` comes back with the result. */
  | { kind: 'decode'; raw: Uint8Array; start: number; end: number; encoding: string };

export interface OffloadResults {
  /** Null for a key that needs the MIME index when there is none. */
  search: Array<boolean | null>;
  decode: { raw: Uint8Array; decoded: Uint8Array };
}

export interface TaskRequest {
  id: number;
  task: OffloadTask;
}

export type TaskReply =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; message: string };

/**
 * The bytes of `bytes` in an ArrayBuffer of their own, to transfer rather than clone. A Buffer that
 * owns its whole ArrayBuffer is given as is (no copy; the sender must not use it again). Otherwise
 * exactly its bytes are copied once: structured clone would copy the whole backing store, which
 * for a small Buffer is Node's shared 8 KiB pool or a large database reply.
 */
export function transferable(bytes: Uint8Array): { view: Uint8Array; buffer: ArrayBuffer } {
  if (
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
  ) {
    return { view: bytes, buffer: bytes.buffer };
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return { view: copy, buffer: copy.buffer };
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
