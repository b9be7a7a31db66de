/**
 * One message's `* n FETCH (...)` response, written into a ResponseBuilder. Message bytes go out as
 * literals straight from the stored Buffer (subarrays, never copied into strings).
 */
import { extractSection, partial, type MimeIndex } from '../../mime/index.ts';
import type { MessageSummary } from '../../store/types.ts';
import type { ResponseBuilder } from '../encoder/index.ts';
import type { FetchItem, FetchPartial } from '../parser/index.ts';
import { isFlagText } from '../encoder/format.ts';
import { emailIdOf } from '../object-id.ts';
import { binaryContent } from './binary.ts';

/** Everything known about one message when its response is written. */
export interface FetchMessage {
  seq: number;
  uid: number;
  /** Flags as this session reports them (with \Recent). */
  flags: readonly string[];
  modseq: number;
  /** Null when the plan needs no summary. */
  summary: MessageSummary | null;
  index: MimeIndex | null;
  raw: Buffer | null;
  /** The stored preview (RFC 8970); null when the plan needs none. */
  preview: string | null;
  /** This FETCH set \Seen on the message: FLAGS is reported even if not asked for (RFC 3501 6.4.5). */
  flagsChanged: boolean;
}

export interface RenderOptions {
  /** CONDSTORE is on: a FLAGS change this FETCH caused is reported with its MODSEQ (RFC 7162 3.2). */
  condstore: boolean;
  /** BINARY contents already decoded (on the parse pool, for a big message); the rest are decoded here. */
  binaries?: ReadonlyMap<BinaryItem, Buffer | null>;
  /** UIDONLY (RFC 9586): `* uid UIDFETCH (...)` instead of `* seq FETCH (...)`. */
  uidOnly?: boolean;
}

export type BinaryItem = Extract<FetchItem, { kind: 'binary' | 'binary-size' }>;

function missing(what: string): Error {
  return new Error(`FETCH: ${what} not loaded`);
}

function clip(data: Buffer, range: FetchPartial | undefined): Buffer {
  return range === undefined ? data : partial(data, range.offset, range.length);
}

const EMPTY = Buffer.alloc(0);

/** Section data: an empty result is the empty string (RFC 3501: a missing part is ""). */
function writeData(builder: ResponseBuilder, data: Buffer, binary = false): void {
  if (data.length === 0) builder.text('""');
  // literal8 only where it is needed: NUL bytes cannot go in a plain literal (RFC 3516 4.2).
  else builder.literal(data, binary && data.includes(0));
}

/**
 * BINARY contents are decoded before anything is written, so that an undecodable part (which
 * fails the command) never leaves half a response in the builder.
 */
function decodeBinaries(
  items: readonly FetchItem[],
  message: FetchMessage,
  ready: ReadonlyMap<BinaryItem, Buffer | null> | undefined,
): Map<BinaryItem, Buffer | null> | null {
  let decoded: Map<BinaryItem, Buffer | null> | null = null;
  for (const item of items) {
    if (item.kind !== 'binary' && item.kind !== 'binary-size') continue;
    if (message.raw === null) throw missing('message bytes');
    decoded ??= new Map();
    const done = ready?.get(item);
    decoded.set(item, done !== undefined ? done : binaryContent(message.raw, message.index, item.part));
  }
  return decoded;
}

function writeItem(
  builder: ResponseBuilder,
  item: FetchItem,
  message: FetchMessage,
  binaries: Map<BinaryItem, Buffer | null> | null,
): void {
  switch (item.kind) {
    case 'attribute':
      return writeAttribute(builder, item.name, message);
    case 'body': {
      if (message.raw === null) throw missing('message bytes');
      const whole = item.section.part.length === 0 && item.section.text === null;
      if (!whole && message.index === null) throw missing('MIME index');
      const data = whole ? message.raw : extractSection(message.raw, message.index!, item.section);
      builder.text(`${item.responseName} `);
      return writeData(builder, clip(data, item.partial));
    }
    case 'binary': {
      const data = binaries?.get(item) ?? null;
      builder.text(`${item.responseName} `);
      // A part that does not exist is the empty string, as for BODY[] (and as Dovecot answers).
      writeData(builder, data === null ? EMPTY : clip(data, item.partial), true);
      return;
    }
    case 'binary-size':
      builder.text(`${item.responseName} `).number(binaries?.get(item)?.length ?? 0);
      return;
  }
}

/** Whether a flag can be sent, by flag: most messages carry the same few. Bounded. */
const sendable = new Map<string, boolean>();
const SENDABLE_LIMIT = 4096;

/** `(\Seen $Forwarded)` as ResponseBuilder.flags writes it, without its per-call arrays. */
export function flagList(flags: readonly string[]): string {
  let text = '(';
  let first = true;
  for (const flag of flags) {
    let ok = sendable.get(flag);
    if (ok === undefined) {
      ok = isFlagText(flag);
      if (sendable.size < SENDABLE_LIMIT) sendable.set(flag, ok);
    }
    if (!ok) continue;
    text += first ? flag : ` ${flag}`;
    first = false;
  }
  return `${text})`;
}

function writeAttribute(
  builder: ResponseBuilder,
  name: Extract<FetchItem, { kind: 'attribute' }>['name'],
  message: FetchMessage,
): void {
  switch (name) {
    case 'FLAGS':
      builder.text(`FLAGS ${flagList(message.flags)}`);
      return;
    case 'UID':
      builder.text('UID ').number(message.uid);
      return;
    case 'MODSEQ':
      builder.text(`MODSEQ (`).number(message.modseq).text(')');
      return;
    case 'INTERNALDATE':
      if (message.summary === null) throw missing('summary');
      builder.text('INTERNALDATE ').date(message.summary.internalDate);
      return;
    case 'PREVIEW':
      if (message.preview === null) throw missing('preview');
      builder.text('PREVIEW ').string(message.preview);
      return;
    case 'EMAILID':
      if (message.summary === null) throw missing('summary');
      builder.text(`EMAILID (${emailIdOf(message.summary.blobId)})`);
      return;
    case 'THREADID':
      // NIL only for a message the thread-id backfill has not reached yet (object-id.ts).
      if (message.summary === null) throw missing('summary');
      builder.text('THREADID ');
      if (message.summary.threadId === null) builder.nil();
      else builder.text(`(${message.summary.threadId})`);
      return;
    case 'SAVEDATE':
      // RFC 8514: NIL for a message whose save date was never recorded (stored before).
      if (message.summary === null) throw missing('summary');
      builder.text('SAVEDATE ');
      if (message.summary.savedAt === null) builder.nil();
      else builder.date(message.summary.savedAt);
      return;
    case 'RFC822.SIZE':
      if (message.summary === null) throw missing('summary');
      builder.text('RFC822.SIZE ').number(message.summary.size);
      return;
    case 'ENVELOPE':
      if (message.index === null) throw missing('MIME index');
      builder.text('ENVELOPE ').value(message.index.envelope);
      return;
    case 'BODY':
      if (message.index === null) throw missing('MIME index');
      builder.text('BODY ').value(message.index.body);
      return;
    case 'BODYSTRUCTURE':
      if (message.index === null) throw missing('MIME index');
      builder.text('BODYSTRUCTURE ').value(message.index.bodyStructure);
      return;
  }
}

/** The items a message's response carries: the asked ones, plus FLAGS (and MODSEQ) after an implicit \Seen. */
function responseItems(
  items: readonly FetchItem[],
  message: FetchMessage,
  options: RenderOptions,
): readonly FetchItem[] {
  if (!message.flagsChanged) return items;
  const has = (name: string) => items.some((item) => item.kind === 'attribute' && item.name === name);
  const extra: FetchItem[] = [];
  if (!has('FLAGS')) extra.push({ kind: 'attribute', name: 'FLAGS' });
  if (options.condstore && !has('MODSEQ')) extra.push({ kind: 'attribute', name: 'MODSEQ' });
  return [...items, ...extra];
}

/** Appends `* seq FETCH (...)\r\n` for one message. Throws (writing nothing) for an undecodable BINARY part. */
export function renderFetch(
  builder: ResponseBuilder,
  items: readonly FetchItem[],
  message: FetchMessage,
  options: RenderOptions,
): void {
  const all = responseItems(items, message, options);
  const binaries = decodeBinaries(all, message, options.binaries);
  builder.text(options.uidOnly ? `* ${message.uid} UIDFETCH (` : `* ${message.seq} FETCH (`);
  for (let i = 0; i < all.length; i++) {
    if (i > 0) builder.sp();
    writeItem(builder, all[i]!, message, binaries);
  }
  builder.text(')\r\n');
}
