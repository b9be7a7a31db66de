/**
 * FETCH of nothing but FLAGS, UID and MODSEQ (a client syncing flags: `FETCH 1:* (FLAGS)`,
 * `UID FETCH 1:* (UID FLAGS)`, with or without CHANGEDSINCE): every answer is in the shared
 * mailbox state, so the responses are written straight from its typed arrays into large Buffers,
 * without an object or a string per message. Flag lists are interned by the state (one array per
 * distinct set), so each set's bytes, and its keyword announcement, are made once per command.
 */
import type { ResponseBuilder } from '../encoder/index.ts';
import type { MailboxView } from '../mailbox-view.ts';
import type { FetchItem } from '../parser/index.ts';
import type { TimeSlice } from '../time-slice.ts';
import { announceKeywordsOf } from '../updates.ts';
import type { FetchPlan } from './plan.ts';
import { flagList } from './render.ts';

type Attribute = 'FLAGS' | 'UID' | 'MODSEQ';
const VIEW_ATTRIBUTES: ReadonlySet<string> = new Set<Attribute>(['FLAGS', 'UID', 'MODSEQ']);

/** Whether the plan asks only for what the view holds. */
export function isViewOnly(plan: FetchPlan): boolean {
  return plan.items.every((item) => item.kind === 'attribute' && VIEW_ATTRIBUTES.has(item.name));
}

/** Response bytes gathered in one Buffer before it is handed to the builder. */
const CHUNK_BYTES = 64 * 1024;
/** Room a line needs besides its flags: `* n FETCH (UID n MODSEQ (n) )\r\n`, numbers of 16 digits. */
const LINE_ROOM = 96;

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (char) => char.charCodeAt(0));
const LINE_START = ascii('* ');
const FETCH_OPEN = ascii(' FETCH (');
const UIDFETCH_OPEN = ascii(' UIDFETCH (');
const UID_ITEM = ascii('UID ');
const MODSEQ_ITEM = ascii('MODSEQ (');
const LINE_END = ascii(')\r\n');
const SPACE = 0x20;
const CLOSE = 0x29;

export interface ViewFetchRun {
  view: MailboxView;
  items: readonly FetchItem[];
  changedSince: number | undefined;
  slice: TimeSlice;
  /** UIDONLY (RFC 9586): `* uid UIDFETCH (...)` lines. */
  uidOnly?: boolean;
  /** The builder to write into now (it changes after a flush). */
  builder(): ResponseBuilder;
  /** Sends what gathered when it is enough. */
  flushIfFull(): Promise<void>;
}

/**
 * The lines, written byte by byte into a Buffer: numbers as digits in place, each flag list's
 * `FLAGS (...)` copied from bytes encoded once per distinct list. Nothing is allocated per message.
 */
class LineBuffer {
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private position = 0;

  constructor(private readonly run: ViewFetchRun) {}

  get length(): number {
    return this.position;
  }

  /** Makes room for `bytes` more, handing what gathered to the builder when the Buffer is full. */
  room(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    this.hand();
    if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(bytes);
  }

  /** Gives the bytes gathered to the builder (so that text the builder gets next follows them). */
  hand(): void {
    if (this.position === 0) return;
    this.run.builder().raw(this.buffer.subarray(0, this.position));
    this.buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, this.buffer.length));
    this.position = 0;
  }

  bytes(bytes: Uint8Array): void {
    if (bytes.length > 16) {
      this.buffer.set(bytes, this.position);
      this.position += bytes.length;
      return;
    }
    for (let i = 0; i < bytes.length; i++) this.buffer[this.position++] = bytes[i]!;
  }

  byte(value: number): void {
    this.buffer[this.position++] = value;
  }

  /** A non-negative integer (UIDs, sequence numbers, MODSEQs: below 2^53) in decimal. */
  number(value: number): void {
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    let at = this.position + digits;
    this.position = at;
    let rest = value;
    do {
      const next = Math.floor(rest / 10);
      this.buffer[--at] = 48 + rest - next * 10;
      rest = next;
    } while (rest > 0);
  }
}

export async function fetchFromView(
  run: ViewFetchRun,
  seqs: readonly number[],
  uids: readonly number[],
): Promise<void> {
  const { view } = run;
  const state = view.state;
  const names = run.items.map((item) => (item as { name: Attribute }).name);
  const wantsFlags = names.includes('FLAGS');
  const out = new LineBuffer(run);
  /** `FLAGS (...)` bytes by interned flag list; a second map for the same list with \Recent. */
  const flagBytes = new Map<readonly string[], Uint8Array>();
  const recentBytes = new Map<readonly string[], Uint8Array>();
  // Neighbours mostly share a flag list (the state interns them): the last one found is kept, so
  // most messages cost no map lookup.
  let lastFlags: readonly string[] | null = null;
  let lastRecent = false;
  let lastBytes: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i]!;
    const seq = seqs[i]!;
    // Where the view shows what the state holds, the sequence number is the state's index.
    const index = seq - 1 < state.length && state.uidAt(seq - 1) === uid ? seq - 1 : state.indexOf(uid);
    const modseq = index >= 0 ? state.modseqAt(index) : view.modseqOf(uid);
    if (run.changedSince !== undefined && modseq <= run.changedSince) continue;
    const flags = wantsFlags
      ? flagsBytes(index >= 0 ? state.flagsAt(index) : view.flagsOf(uid), view.isRecent(uid))
      : null;
    out.room(LINE_ROOM + (flags?.length ?? 0));
    out.bytes(LINE_START);
    out.number(run.uidOnly ? uid : seq);
    out.bytes(run.uidOnly ? UIDFETCH_OPEN : FETCH_OPEN);
    for (let n = 0; n < names.length; n++) {
      if (n > 0) out.byte(SPACE);
      const name = names[n]!;
      if (name === 'UID') {
        out.bytes(UID_ITEM);
        out.number(uid);
      } else if (name === 'MODSEQ') {
        out.bytes(MODSEQ_ITEM);
        out.number(modseq);
        out.byte(CLOSE);
      } else out.bytes(flags!);
    }
    out.bytes(LINE_END);
    // The clock is read every 256 messages, not for each (a line costs well under a microsecond).
    if (out.length >= CHUNK_BYTES - 4 * LINE_ROOM || ((i & 255) === 255 && run.slice.due)) {
      out.hand();
      await run.flushIfFull();
      await run.slice.yield();
    }
  }
  out.hand();

  function flagsBytes(flags: readonly string[], recent: boolean): Uint8Array {
    if (flags === lastFlags && recent === lastRecent) return lastBytes;
    lastBytes = interned(flags, recent);
    lastFlags = flags;
    lastRecent = recent;
    return lastBytes;
  }

  function interned(flags: readonly string[], recent: boolean): Uint8Array {
    const known = recent ? recentBytes : flagBytes;
    let found = known.get(flags);
    if (found === undefined) {
      const shown = recent ? [...flags, '\\Recent'] : flags;
      // New keywords are announced (untagged FLAGS) before the first response that carries them.
      out.hand();
      announceKeywordsOf(run.builder(), view, shown);
      found = Buffer.from(`FLAGS ${flagList(shown)}`, 'utf8');
      known.set(flags, found);
    }
    return found;
  }
}
