/**
 * FETCH of nothing but FLAGS, UID and MODSEQ (a client syncing flags: `FETCH 1:* (FLAGS)`,
 * `UID FETCH 1:* (UID FLAGS)`, with or without CHANGEDSINCE): every answer is in the shared
 * mailbox state, so the responses are written straight from its typed arrays into large Buffers,
 * without an object or a string per message. Flag lists are interned by the state (one array per
 * distinct set), so each line's bytes around its numbers, and each set's keyword announcement,
 * are made once per command. `1:*` over a view that shows the state as it is (targets.ts
 * `namesWholeView`) walks the state without listing its sequence numbers and UIDs first.
 */
import type { ResponseBuilder } from '../encoder/index.ts';
import type { MailboxState } from '../mailbox-state.ts';
import type { MailboxView } from '../mailbox-view.ts';
import type { FetchItem } from '../parser/index.ts';
import type { TimeSlice } from '../time-slice.ts';
import { announceKeywordsOf } from '../updates.ts';
import type { FetchPlan } from './plan.ts';
import { writeDigits } from './digits.ts';
import { flagList } from './render.ts';
import type { Targets } from './targets.ts';

type Attribute = 'FLAGS' | 'UID' | 'MODSEQ';
const VIEW_ATTRIBUTES: ReadonlySet<string> = new Set<Attribute>(['FLAGS', 'UID', 'MODSEQ']);

/** Whether the plan asks only for what the view holds. */
export function isViewOnly(plan: FetchPlan): boolean {
  return plan.items.every((item) => item.kind === 'attribute' && VIEW_ATTRIBUTES.has(item.name));
}

/** Response bytes gathered in one Buffer before it is handed to the builder. */
const CHUNK_BYTES = 64 * 1024;
/** Room a line needs besides its parts: its numbers, up to three of 16 digits. */
const LINE_ROOM = 96;

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

  /** A non-negative integer (UIDs, sequence numbers, MODSEQs: below 2^53) in decimal. */
  number(value: number): void {
    this.position = writeDigits(this.buffer, this.position, value);
  }
}

/**
 * Writes the lines of the targets; null: every message of a view that shows the shared state as it
 * is (targets.ts `namesWholeView`), walked in state order without listing them. Should messages
 * come or go while the walk yields, the rest is answered the general way, from the view's list:
 * the positions already answered keep their numbers (an expunge is still shown, new mail is not).
 */
export async function fetchFromView(run: ViewFetchRun, targets: Targets | null): Promise<void> {
  const lines = new FetchLines(run);
  if (targets === null) {
    const done = await lines.walkState();
    if (done === run.view.state.length && run.view.unchanged) return lines.end();
    const uids = run.view.allUids().slice(done);
    targets = { seqs: uids.map((_, i) => done + i + 1), uids };
  }
  await lines.writeTargets(targets);
  lines.end();
}

/** What a line holds, in the order asked: numbers, compared per message more cheaply than names. */
const Item = { flags: 0, uid: 1, modseq: 2 } as const;
type Item = (typeof Item)[keyof typeof Item];
/** The numbers a line holds, in order (the first is the message's: sequence number, or UID). */
const Num = { seq: 0, uid: 1, modseq: 2 } as const;
type Num = (typeof Num)[keyof typeof Num];

/**
 * A line's bytes between its numbers, for one flag list: `parts[j]` goes before number j, the
 * last one after them all. `* 5 FETCH (UID 9 FLAGS (\Seen))` is `* `, 5, ` FETCH (UID `, 9,
 * ` FLAGS (\Seen))\r\n`: three copies and two numbers, whatever the items.
 */
interface LineParts {
  parts: Uint8Array[];
  /** Their bytes, all together. */
  length: number;
}

/** The numbers of a line and, for a flag list's `FLAGS (...)` text, the parts around them. */
function lineShape(
  items: readonly Item[],
  uidOnly: boolean,
): { numbers: Num[]; parts(flags: string): LineParts } {
  const numbers: Num[] = [uidOnly ? Num.uid : Num.seq];
  for (const item of items) {
    if (item === Item.uid) numbers.push(Num.uid);
    else if (item === Item.modseq) numbers.push(Num.modseq);
  }
  const parts = (flags: string): LineParts => {
    const texts = ['* '];
    let text = uidOnly ? ' UIDFETCH (' : ' FETCH (';
    items.forEach((item, n) => {
      if (n > 0) text += ' ';
      if (item === Item.flags) text += flags;
      else {
        texts.push(text + (item === Item.uid ? 'UID ' : 'MODSEQ ('));
        text = item === Item.uid ? '' : ')';
      }
    });
    texts.push(`${text})\r\n`);
    const bytes = texts.map((part) => Buffer.from(part, 'utf8'));
    return { parts: bytes, length: bytes.reduce((sum, part) => sum + part.length, 0) };
  };
  return { numbers, parts };
}

/** The FETCH lines of one command, written into a LineBuffer. */
class FetchLines {
  private readonly out: LineBuffer;
  private readonly view: MailboxView;
  private readonly state: MailboxState;
  private readonly numbers: Num[];
  private readonly partsOf: (flags: string) => LineParts;
  /** The parts of every line when FLAGS is not asked for. */
  private readonly plainParts: LineParts | null;
  /** Parts by interned flag list; a second map for the same list with \Recent. */
  private readonly byList = new Map<readonly string[], LineParts>();
  private readonly byListRecent = new Map<readonly string[], LineParts>();
  /** The same by the state's flag list id (an array read per message, not a map lookup). */
  private readonly byId: Array<LineParts | undefined> = [];
  private readonly byIdRecent: Array<LineParts | undefined> = [];

  constructor(private readonly run: ViewFetchRun) {
    this.out = new LineBuffer(run);
    this.view = run.view;
    this.state = run.view.state;
    const items = run.items.map((item) => {
      const name = (item as { name: Attribute }).name;
      return name === 'FLAGS' ? Item.flags : name === 'UID' ? Item.uid : Item.modseq;
    });
    const shape = lineShape(items, run.uidOnly ?? false);
    this.numbers = shape.numbers;
    this.partsOf = shape.parts;
    this.plainParts = items.includes(Item.flags) ? null : shape.parts('');
  }

  /**
   * Every message of the state, in order, while the view shows it as it is. Returns how many were
   * answered: all of them, or fewer when the view changed while yielding.
   */
  async walkState(): Promise<number> {
    const { state, view } = this;
    const count = state.length;
    for (let index = 0; index < count; index++) {
      this.line(index + 1, state.uidAt(index), index);
      if (this.dueAt(index)) {
        await this.pause();
        // Messages came or went meanwhile, moving the state's indexes.
        if (!view.unchanged || state.length !== count) return index + 1;
      }
    }
    return count;
  }

  async writeTargets({ seqs, uids }: Targets): Promise<void> {
    const { state } = this;
    for (let i = 0; i < uids.length; i++) {
      const uid = uids[i]!;
      const seq = seqs[i]!;
      // Where the view shows what the state holds, the sequence number is the state's index.
      const index = seq - 1 < state.length && state.uidAt(seq - 1) === uid ? seq - 1 : state.indexOf(uid);
      this.line(seq, uid, index);
      if (this.dueAt(i)) await this.pause();
    }
  }

  end(): void {
    this.out.hand();
  }

  /** One message's line; `index` is its place in the state, or -1 (expunged, still shown). */
  private line(seq: number, uid: number, index: number): void {
    const { out, run, view, state, numbers } = this;
    const modseq = index >= 0 ? state.modseqAt(index) : view.modseqOf(uid);
    if (run.changedSince !== undefined && modseq <= run.changedSince) return;
    const { parts, length } = this.plainParts ?? this.flagParts(uid, index);
    out.room(LINE_ROOM + length);
    for (let j = 0; j < numbers.length; j++) {
      out.bytes(parts[j]!);
      const number = numbers[j]!;
      out.number(number === Num.seq ? seq : number === Num.uid ? uid : modseq);
    }
    out.bytes(parts[numbers.length]!);
  }

  /** Whether to send what gathered and give the event loop a turn, after the `i`th message. */
  private dueAt(i: number): boolean {
    // The clock is read every 256 messages, not for each (a line costs well under a microsecond).
    return this.out.length >= CHUNK_BYTES - 4 * LINE_ROOM || ((i & 255) === 255 && this.run.slice.due);
  }

  private async pause(): Promise<void> {
    this.out.hand();
    await this.run.flushIfFull();
    await this.run.slice.yield();
  }

  /** The parts of a line with the message's flags. */
  private flagParts(uid: number, index: number): LineParts {
    const recent = this.view.isRecent(uid);
    if (index < 0) return this.interned(this.view.flagsOf(uid), recent);
    const id = this.state.flagSetIdAt(index);
    const known = recent ? this.byIdRecent : this.byId;
    return (known[id] ??= this.interned(this.state.flagSetById(id), recent));
  }

  private interned(flags: readonly string[], recent: boolean): LineParts {
    const known = recent ? this.byListRecent : this.byList;
    let found = known.get(flags);
    if (found === undefined) {
      const shown = recent ? [...flags, '\\Recent'] : flags;
      // New keywords are announced (untagged FLAGS) before the first response that carries them.
      this.out.hand();
      announceKeywordsOf(this.run.builder(), this.view, shown);
      found = this.partsOf(`FLAGS ${flagList(shown)}`);
      known.set(flags, found);
    }
    return found;
  }
}
