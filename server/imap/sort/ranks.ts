/**
 * Sort ranks: per mailbox and sort key, every distinct key value seen is interned once (an atom)
 * and numbered in key order (its rank). SORT then orders messages by comparing small integers —
 * with a counting sort, in linear time (order.ts) — instead of comparing collation keys or dates
 * once per comparison. A message's key values never change (its bytes, internal date and size do
 * not), so an atom, once found, stays right for its message; a value not seen before (a new
 * message) is merged into the order on the next SORT with that key, at the cost of renumbering the
 * atoms, not of sorting the mailbox again.
 *
 * The rankings of a mailbox live beside its sort cache (cache.ts) and go away with it. Values of
 * expunged messages keep their atoms; when those outnumber the live ones the rankings start over.
 */
import { compareKeys } from './collate.ts';
import type { SortCache } from './cache.ts';
import { keyValue, type SortEntry, type SortKeyName } from './keys.ts';

/** Where an entry keeps its atom of each key: an array slot (a fixed-shape, fast lookup). */
const SLOTS: Record<SortKeyName, number> = {
  ARRIVAL: 0,
  DATE: 1,
  SIZE: 2,
  FROM: 3,
  TO: 4,
  CC: 5,
  DISPLAYFROM: 6,
  DISPLAYTO: 7,
  SUBJECT: 8,
};

const SLOT_COUNT = Object.keys(SLOTS).length;

export interface Atom {
  readonly value: string | number;
  /** Position in key order among the ranking's atoms; equal values share one atom. */
  rank: number;
  /** The ranking that numbered it: an entry may hold an atom of a ranking since replaced. */
  readonly ranking: KeyRanking;
}

/** Atoms in key order: numbers (ARRIVAL, DATE, SIZE) as numbers, strings as collation keys. */
function compareAtoms(a: Atom, b: Atom): number {
  const x = a.value;
  const y = b.value;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return compareKeys(String(x), String(y));
}

function compareNumberAtoms(a: Atom, b: Atom): number {
  return (a.value as number) - (b.value as number);
}

const NUMERIC: ReadonlySet<SortKeyName> = new Set(['ARRIVAL', 'DATE', 'SIZE']);

/** The atoms of one sort key in one mailbox, in key order. */
export class KeyRanking {
  private readonly atoms = new Map<string | number, Atom>();
  private ordered: Atom[] = [];
  /** Atoms made since the last numbering: not in `ordered` yet, rank -1. */
  private fresh: Atom[] = [];

  private readonly slot: number;

  constructor(readonly key: SortKeyName) {
    this.slot = SLOTS[key];
  }

  /** The entry's atom for this key, interned on first use and kept in the entry. */
  atomOf(entry: SortEntry): Atom {
    const kept = entry.lazy.atoms?.[this.slot];
    if (kept !== undefined && kept.ranking === this) return kept;
    const value = keyValue(entry, this.key);
    let atom = this.atoms.get(value);
    if (atom === undefined) {
      atom = { value, rank: -1, ranking: this };
      this.atoms.set(value, atom);
      this.fresh.push(atom);
    }
    (entry.lazy.atoms ??= new Array<Atom | undefined>(SLOT_COUNT).fill(undefined))[this.slot] = atom;
    return atom;
  }

  /**
   * Numbers the atoms made since the last call into the order (they are sorted among themselves,
   * then merged), and returns how many ranks there are.
   */
  settle(): number {
    if (this.fresh.length > 0) {
      const compare = NUMERIC.has(this.key) ? compareNumberAtoms : compareAtoms;
      const fresh = this.fresh.sort(compare);
      this.fresh = [];
      this.ordered = mergeSorted(this.ordered, fresh, compare);
      for (let i = 0; i < this.ordered.length; i++) this.ordered[i]!.rank = i;
    }
    return this.ordered.length;
  }

  get size(): number {
    return this.atoms.size;
  }
}

function mergeSorted(
  old: readonly Atom[],
  fresh: readonly Atom[],
  compare: (a: Atom, b: Atom) => number,
): Atom[] {
  if (old.length === 0) return [...fresh];
  const merged = new Array<Atom>(old.length + fresh.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < old.length && j < fresh.length) {
    merged[k++] = compare(old[i]!, fresh[j]!) <= 0 ? old[i++]! : fresh[j++]!;
  }
  while (i < old.length) merged[k++] = old[i++]!;
  while (j < fresh.length) merged[k++] = fresh[j++]!;
  return merged;
}

/** Every key's ranking of one mailbox. */
export class SortRanks {
  private readonly rankings = new Map<SortKeyName, KeyRanking>();

  /**
   * The ranking of this key; started over when it holds more than twice as many values as the
   * mailbox has messages (most then belong to expunged messages).
   */
  ranking(key: SortKeyName, messages: number): KeyRanking {
    let ranking = this.rankings.get(key);
    if (ranking === undefined || ranking.size > 2 * messages + 1024) {
      ranking = new KeyRanking(key);
      this.rankings.set(key, ranking);
    }
    return ranking;
  }
}

const byCache = new WeakMap<SortCache, SortRanks>();

/** The rankings kept for a mailbox's sort cache (made on first use, gone with the cache). */
export function ranksOf(cache: SortCache): SortRanks {
  let ranks = byCache.get(cache);
  if (ranks === undefined) {
    ranks = new SortRanks();
    byCache.set(cache, ranks);
  }
  return ranks;
}
