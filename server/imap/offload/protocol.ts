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
