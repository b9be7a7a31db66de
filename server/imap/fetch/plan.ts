/**
 * What a FETCH needs before any message is read: the items in response order (duplicates gone,
 * UID first for UID FETCH, MODSEQ added for CHANGEDSINCE), and which data each message needs. FLAGS,
 * UID and MODSEQ come from the session's view alone, so `FETCH 1:* (UID FLAGS)` touches no store at
 * all; INTERNALDATE and RFC822.SIZE need the message's summary row; ENVELOPE and the body
 * structures its MIME index; section data the raw bytes too; PREVIEW the preview stored with the body.
 */
import type { FetchCommand, FetchItem } from '../parser/index.ts';

export interface FetchPlan {
  /** The data items to answer, in response order. */
  items: FetchItem[];
  /** The summary row (internal date, size, blob id) is needed: anything beyond FLAGS/UID/MODSEQ. */
  needsSummary: boolean;
  /** The MIME index is needed (ENVELOPE, BODY, BODYSTRUCTURE, part sections). */
  needsIndex: boolean;
  /** The raw message bytes are needed (section data). */
  needsRaw: boolean;
  /** The stored preview is needed (PREVIEW, RFC 8970: computed when the message was stored). */
  needsPreview: boolean;
  /** Some item is a non-PEEK body fetch, which sets \Seen (RFC 3501 6.4.5). */
  setsSeen: boolean;
  /** MODSEQ is answered, explicitly or implied by CHANGEDSINCE: CONDSTORE is then on (RFC 7162 3.1). */
  modseq: boolean;
}

const UID_ITEM: FetchItem = { kind: 'attribute', name: 'UID' };
const MODSEQ_ITEM: FetchItem = { kind: 'attribute', name: 'MODSEQ' };

/** A key telling identical requests apart (`FLAGS FLAGS`, `BODY[] BODY.PEEK[]` answer once). */
function itemKey(item: FetchItem): string {
  return item.kind === 'attribute' ? item.name : item.responseName;
}

/** The whole message without a partial: served from the raw bytes without the MIME index. */
function isWholeMessage(item: FetchItem): boolean {
  if (item.kind === 'body') return item.section.part.length === 0 && item.section.text === null;
  if (item.kind === 'binary' || item.kind === 'binary-size') return item.part.length === 0;
  return false;
}

function dedupe(items: FetchItem[]): FetchItem[] {
  const seen = new Map<string, FetchItem>();
  for (const item of items) {
    const key = itemKey(item);
    const earlier = seen.get(key);
    // BODY[] and BODY.PEEK[] share a response name: the non-PEEK one wins, as it sets \Seen.
    if (earlier === undefined || ('peek' in earlier && earlier.peek && 'peek' in item && !item.peek)) {
      seen.set(key, item);
    }
  }
  return [...seen.values()];
}

export function planFetch(command: Pick<FetchCommand, 'uid' | 'items' | 'modifiers'>): FetchPlan {
  let items = dedupe(command.items);
  if (command.uid) items = [UID_ITEM, ...items.filter((item) => itemKey(item) !== 'UID')];
  if (command.modifiers.changedSince !== undefined && !items.some((item) => itemKey(item) === 'MODSEQ')) {
    items.push(MODSEQ_ITEM);
  }
  const plan: FetchPlan = {
    items,
    needsSummary: false,
    needsIndex: false,
    needsRaw: false,
    needsPreview: false,
    setsSeen: false,
    modseq: false,
  };
  for (const item of items) noteNeeds(plan, item);
  return plan;
}

function noteNeeds(plan: FetchPlan, item: FetchItem): void {
  switch (item.kind) {
    case 'attribute':
      switch (item.name) {
        case 'FLAGS':
        case 'UID':
          return;
        case 'MODSEQ':
          plan.modseq = true;
          return;
        case 'INTERNALDATE':
        case 'RFC822.SIZE':
        case 'SAVEDATE':
        case 'EMAILID':
        case 'THREADID':
          plan.needsSummary = true;
          return;
        case 'ENVELOPE':
        case 'BODY':
        case 'BODYSTRUCTURE':
          plan.needsSummary = true;
          plan.needsIndex = true;
          return;
        case 'PREVIEW':
          plan.needsSummary = true;
          plan.needsPreview = true;
          return;
      }
      return;
    case 'body':
    case 'binary':
    case 'binary-size':
      plan.needsSummary = true;
      plan.needsRaw = true;
      if (!isWholeMessage(item)) plan.needsIndex = true;
      if (item.kind !== 'binary-size' && !item.peek) plan.setsSeen = true;
      return;
  }
}
