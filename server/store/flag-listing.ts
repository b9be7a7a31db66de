/**
 * Builds a `FlagListing` (store/types.ts) row by row: typed arrays that grow as rows come, and the
 * distinct flag lists interned by a key the engine already has (its stored text of the flags), so
 * a mailbox of 100,000 messages becomes three arrays and a handful of flag lists, with no object
 * per message.
 */
import type { Flag, FlagListing } from './types.ts';

export class FlagListingBuilder {
  private uids: Uint32Array;
  private modseqs: Float64Array;
  private flagSetIds: Uint32Array;
  private count = 0;
  private readonly flagSets: Flag[][] = [];
  private readonly ids = new Map<string, number>();

  constructor(expected = 1024) {
    // A hint only (a counter that may be off for a moment after a crash): bounded either way.
    const capacity = Math.min(Math.max(16, expected || 0), 1 << 22);
    this.uids = new Uint32Array(capacity);
    this.modseqs = new Float64Array(capacity);
    this.flagSetIds = new Uint32Array(capacity);
  }

  /** `key` tells flag lists apart; `flags` makes the list, called once per distinct key. */
  add(uid: number, modseq: number, key: string, flags: (key: string) => Flag[]): void {
    if (this.count === this.uids.length) this.grow();
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.flagSets.length;
      this.flagSets.push(flags(key));
      this.ids.set(key, id);
    }
    this.uids[this.count] = uid;
    this.modseqs[this.count] = modseq;
    this.flagSetIds[this.count] = id;
    this.count++;
  }

  private grow(): void {
    const capacity = this.uids.length * 2;
    const grown = <T extends Uint32Array | Float64Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.uids = grown(this.uids, new Uint32Array(capacity));
    this.modseqs = grown(this.modseqs, new Float64Array(capacity));
    this.flagSetIds = grown(this.flagSetIds, new Uint32Array(capacity));
  }

  /** The listing, its arrays cut to size (they may cross a thread boundary: copied as they are). */
  finish(): FlagListing {
    return {
      count: this.count,
      uids: this.uids.slice(0, this.count),
      modseqs: this.modseqs.slice(0, this.count),
      flagSetIds: this.flagSetIds.slice(0, this.count),
      flagSets: this.flagSets,
    };
  }
}
