/**
 * FETCH of nothing but FLAGS, UID and MODSEQ (a client syncing flags: `FETCH 1:* (FLAGS)`,
 * `UID FETCH 1:* (UID FLAGS)`, with or without CHANGEDSINCE): every answer is in the shared
 * mailbox state, so the responses are written straight from its typed arrays into large text
 * chunks, without a message object per message. Flag lists are interned by the state (one array
 * per distinct set), so each set's text, and its keyword announcement, is made once per command.
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

/** Text gathered before it is handed to the builder (and, when enough, to the socket). */
const CHUNK_CHARS = 64 * 1024;

export interface ViewFetchRun {
  view: MailboxView;
  items: readonly FetchItem[];
  changedSince: number | undefined;
  slice: TimeSlice;
  /** The builder to write into now (it changes after a flush). */
  builder(): ResponseBuilder;
  /** Sends what gathered when it is enough. */
  flushIfFull(): Promise<void>;
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
  /** `FLAGS (...)` by interned flag list; a second map for the same list with \Recent. */
  const flagTexts = new Map<readonly string[], string>();
  const recentTexts = new Map<readonly string[], string>();
  let text = '';
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i]!;
    const seq = seqs[i]!;
    // Where the view shows what the state holds, the sequence number is the state's index.
    const index = seq - 1 < state.length && state.uidAt(seq - 1) === uid ? seq - 1 : state.indexOf(uid);
    const modseq = index >= 0 ? state.modseqAt(index) : view.modseqOf(uid);
    if (run.changedSince !== undefined && modseq <= run.changedSince) continue;
    let line = `* ${seq} FETCH (`;
    for (let n = 0; n < names.length; n++) {
      if (n > 0) line += ' ';
      const name = names[n]!;
      if (name === 'UID') line += `UID ${uid}`;
      else if (name === 'MODSEQ') line += `MODSEQ (${modseq})`;
      else line += flagsText(index >= 0 ? state.flagsAt(index) : view.flagsOf(uid), view.isRecent(uid));
    }
    text += `${line})\r\n`;
    // The clock is read every 256 messages, not for each (a line costs well under a microsecond).
    if (text.length >= CHUNK_CHARS || ((i & 255) === 255 && run.slice.due)) {
      run.builder().text(text);
      text = '';
      await run.flushIfFull();
      await run.slice.yield();
    }
  }
  if (text.length > 0) run.builder().text(text);

  function flagsText(flags: readonly string[], recent: boolean): string {
    const texts = recent ? recentTexts : flagTexts;
    let found = texts.get(flags);
    if (found === undefined) {
      const shown = recent ? [...flags, '\\Recent'] : flags;
      // New keywords are announced (untagged FLAGS) before the first response that carries them.
      if (text.length > 0) {
        run.builder().text(text);
        text = '';
      }
      if (wantsFlags) announceKeywordsOf(run.builder(), view, shown);
      found = `FLAGS ${flagList(shown)}`;
      texts.set(flags, found);
    }
    return found;
  }
}
