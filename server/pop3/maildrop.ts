/**
 * The maildrop of one POP3 session (RFC 1939 5): every message of the user's INBOX, as it was at
 * login. Message numbers 1..n map to UIDs in UID order and do not change during the session: mail
 * arriving meanwhile is seen by the next session. DELE only marks; QUIT commits (`commit`).
 *
 * UIDL values are `<uidvalidity>-<uid>` of the INBOX: a UID is never reused while the UIDVALIDITY
 * stays, and a new UIDVALIDITY gives every message a new value, so a value is never reused.
 *
 * Sizes are the CRLF sizes (encoder.ts). They need the message bytes, so they are computed when
 * first asked for and remembered: per session here, and per body in a bounded process-wide cache
 * keyed by the body's SHA-256 (a body's bytes never change, so an entry never goes stale).
 */
import type { Logger } from '../log.ts';
import { isStoreError } from '../store/errors.ts';
import type { Mailbox, MessageSummary, Store } from '../store/types.ts';
import { virtualSize } from './encoder.ts';
import { err } from './errors.ts';

export type DeleteMode = 'expunge' | 'trash';

interface Entry {
  uid: number;
  blobId: string;
  storedSize: number;
  seen: boolean;
  size: number | null;
  deleted: boolean;
  retrieved: boolean;
}

const SIZE_CACHE_MAX = 50_000;
const sizeCache = new Map<string, number>();

function cachedSize(blobId: string): number | undefined {
  return sizeCache.get(blobId);
}

function rememberSize(blobId: string, size: number): void {
  if (sizeCache.size >= SIZE_CACHE_MAX) {
    // Drop the oldest tenth (Map keeps insertion order).
    let drop = SIZE_CACHE_MAX / 10;
    for (const key of sizeCache.keys()) {
      sizeCache.delete(key);
      if (--drop <= 0) break;
    }
  }
  sizeCache.set(blobId, size);
}

export interface CommitResult {
  /** Messages removed from the INBOX (expunged, or moved to Trash). */
  removed: number;
  /** Messages marked for deletion that were not removed (already gone, e.g. expunged over IMAP). */
  missing: number;
}

export class Maildrop {
  private readonly entries: Entry[];

  private constructor(
    private readonly store: Store,
    readonly mailbox: Mailbox,
    messages: MessageSummary[],
  ) {
    this.entries = messages.map((message) => ({
      uid: message.uid,
      blobId: message.blobId,
      storedSize: message.size,
      seen: message.flags.includes('\\Seen'),
      size: cachedSize(message.blobId) ?? null,
      deleted: false,
      retrieved: false,
    }));
  }

  /** Takes the snapshot of the user's INBOX. */
  static async open(store: Store, userId: string): Promise<Maildrop> {
    const mailbox = await store.getMailbox(userId, 'INBOX');
    if (!mailbox) throw err('No INBOX for this account', 'SYS/PERM');
    return new Maildrop(store, mailbox, await store.listMessages(mailbox.id));
  }

  /** Number of messages at login, deleted ones included (the highest valid message number). */
  get total(): number {
    return this.entries.length;
  }

  private entry(number: number): Entry {
    const entry = this.entries[number - 1];
    if (!entry) throw err(`No such message ${number}`);
    if (entry.deleted) throw err(`Message ${number} is deleted`);
    return entry;
  }

  /** Message numbers not marked as deleted. */
  *live(): Generator<number> {
    for (const [index, entry] of this.entries.entries()) if (!entry.deleted) yield index + 1;
  }

  /** Throws the client's error for a number out of range or deleted. */
  check(number: number): void {
    this.entry(number);
  }

  uidl(number: number): string {
    return `${this.mailbox.uidValidity}-${this.entry(number).uid}`;
  }

  async size(number: number): Promise<number> {
    const entry = this.entry(number);
    if (entry.size === null) {
      try {
        entry.size = virtualSize(await this.store.readBlob(entry.blobId));
        rememberSize(entry.blobId, entry.size);
      } catch (error) {
        // Expunged over IMAP since login and its body gone: listings go on with the stored size
        // (RETR says the message is no longer available).
        if (!isStoreError(error, 'NONEXISTENT')) throw error;
        entry.size = entry.storedSize;
      }
    }
    return entry.size;
  }

  /** Count and total size of the messages not marked as deleted (STAT, LIST, RSET). */
  async stat(): Promise<{ count: number; size: number }> {
    let count = 0;
    let size = 0;
    for (const number of this.live()) {
      count++;
      size += await this.size(number);
    }
    return { count, size };
  }

  /** The message bytes as stored; `retrieved` marks it for \Seen at commit (RETR, not TOP). */
  async read(number: number, retrieved: boolean): Promise<Buffer> {
    const entry = this.entry(number);
    let raw: Buffer;
    try {
      raw = await this.store.readBlob(entry.blobId);
    } catch (error) {
      if (isStoreError(error, 'NONEXISTENT')) {
        throw err(`Message ${number} is no longer available`);
      }
      throw error;
    }
    if (entry.size === null) {
      entry.size = virtualSize(raw);
      rememberSize(entry.blobId, entry.size);
    }
    if (retrieved) entry.retrieved = true;
    return raw;
  }

  dele(number: number): void {
    this.entry(number).deleted = true;
  }

  /** Unmarks every deleted message (RSET). */
  reset(): void {
    for (const entry of this.entries) entry.deleted = false;
  }

  get deletedCount(): number {
    return this.entries.filter((entry) => entry.deleted).length;
  }

  /**
   * The UPDATE state (RFC 1939 6): removes the messages marked deleted — expunged, or moved to the
   * Trash mailbox — and flags the retrieved ones that stay \Seen (as Dovecot does), so IMAP shows
   * them as read. IMAP sessions learn of both through the journal.
   */
  async commit(userId: string, mode: DeleteMode, log: Logger): Promise<CommitResult> {
    const deleted = this.entries.filter((entry) => entry.deleted).map((entry) => entry.uid);
    const seen = this.entries
      .filter((entry) => entry.retrieved && !entry.deleted && !entry.seen)
      .map((entry) => entry.uid);
    if (seen.length > 0) {
      try {
        await this.store.storeFlags(this.mailbox.id, seen, 'add', ['\\Seen']);
      } catch (error) {
        // Not worth failing the QUIT for: the deletions matter, the flags are a courtesy.
        log.warn({ err: error }, 'could not flag retrieved messages as seen');
      }
    }
    if (deleted.length === 0) return { removed: 0, missing: 0 };
    let removed: number;
    if (mode === 'trash') {
      const trash = await this.trashMailbox(userId);
      removed =
        trash.id === this.mailbox.id
          ? deleted.length
          : (await this.store.moveMessages(this.mailbox.id, deleted, trash.id)).uidMap.length;
    } else {
      removed = (await this.store.deleteMessages(this.mailbox.id, deleted)).length;
    }
    return { removed, missing: deleted.length - removed };
  }

  private async trashMailbox(userId: string): Promise<Mailbox> {
    const mailboxes = await this.store.listMailboxes(userId);
    const trash =
      mailboxes.find((mailbox) => mailbox.specialUse === '\\Trash' && mailbox.selectable) ??
      (await this.store.getMailbox(userId, 'Trash'));
    if (trash?.selectable) return trash;
    return this.store.createMailbox(userId, 'Trash', '\\Trash');
  }
}
