/**
 * Collections, document shapes and indexes of the mongodb engine. Everything is created
 * idempotently when a store opens (createIndex of an existing index is a no-op), so any number of
 * server processes may start at once on a new database.
 *
 * Ids of users, mailboxes, app passwords, rules and journal entries are numbers from atomic
 * counters (never reused after a delete, like the sqlite engine's AUTOINCREMENT); the contract
 * sees them as decimal strings. Times are BSON dates.
 *
 * Only features that every MongoDB (4.4+) and the test stand-in (mongo-java-server) have are used:
 * plain and unique indexes, single-document atomic updates, findOneAndUpdate returning the
 * document *before* the update. No transactions, sessions, TTL or partial indexes, collation,
 * update pipelines or $expr.
 */
import type { Collection, Db } from 'mongodb';
import { domainOfAddress } from '../domains.ts';
import { StoreError } from '../errors.ts';
import { WORD_LISTS_META } from './text-search.ts';
import { aggregateTotals } from './totals.ts';
import type { AddressKind, ConnectionRuleKind, JournalKind, RuleProtocol, SpecialUse } from '../types.ts';

/**
 * Bumped when stored documents change incompatibly; a newer database is refused. 2: the journal is
 * per user (`user_journal`, `userJournalMark` on mailboxes) instead of one global `journal`.
 */
export const SCHEMA_VERSION = 2;

export interface UserDoc {
  _id: number;
  username: string;
  name: string;
  /** Lower-cased name, for case-insensitive search. */
  nameLower: string;
  passwordHash: string;
  disabled: boolean;
  /** Absent on users made before the setting existed: off. */
  saveSentCopy?: boolean;
  /** IMAP UIDONLY offered: absent or null follows the server's default. */
  uidOnly?: boolean | null;
  quotaBytes: number;
  usedBytes: number;
  /** Last UIDVALIDITY handed out to one of the user's mailboxes. */
  lastUidValidity: number;
  createdAt: Date;
  /**
   * The subscribed names (RFC 3501 6.3.6), kept when mailboxes are deleted or renamed. Missing on
   * users created before the list existed: the first use builds it from the mailboxes' flags.
   */
  subscriptions?: string[];
  /** The user's server METADATA entries (RFC 5464, see metadata.ts); absent: none. */
  metadata?: MetadataDoc[];
  metadataVersion?: number;
}

/** One METADATA entry: its lower-cased name and its bytes. */
export interface MetadataDoc {
  name: string;
  value: Buffer;
}

export interface AddressDoc {
  /** The address, lower-cased: unique by construction. */
  _id: string;
  user: number;
  kind: AddressKind;
  createdAt: Date;
}

/** A domain record (see `Domain`); the catch-all is the `*@domain` address document. */
export interface DomainDoc {
  /** Lower-case A-label. */
  _id: string;
  dkim: boolean;
  createdAt: Date;
}

export interface AppPasswordDoc {
  _id: number;
  user: number;
  label: string;
  hash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface MailboxDoc {
  _id: number;
  user: number;
  path: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  selectable: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** Highest UID already claimed as \Recent by a session. */
  recentMark: number;
  /**
   * Position in the owner's journal of the latest UID/MODSEQ allocation (messages.ts `allocate`);
   * an allocation with a lower position is refused, so positions and MODSEQs grow together.
   * Absent: none yet. (Version 1 databases kept a global position in `journalMark`, now ignored.)
   */
  userJournalMark?: number;
  /** The URLAUTH key (RFC 4467, see urlauth.ts): absent until first used, and after RESETKEY. */
  urlAuthKey?: Uint8Array;
  /** The mailbox's METADATA entries (RFC 5464, see metadata.ts); absent: none. */
  metadata?: MetadataDoc[];
  metadataVersion?: number;
  /**
   * Per-mailbox counters for STATUS and EXAMINE (no scan of the messages): counted when UIDs are
   * allocated for new messages, uncounted by whoever removes a message or gives an allocation
   * up. Absent on mailboxes made before them: those are counted by aggregation. A writer that
   * died half-way leaves them wrong until the janitor recounts the mailbox (recount.ts).
   */
  messageCount?: number;
  unseenCount?: number;
  byteCount?: number;
  /** Messages flagged \Deleted, kept like the others; absent on mailboxes counted before it. */
  deletedCount?: number;
  /**
   * Every expunge with a higher MODSEQ is in `expunged` (QRESYNC). 0 for mailboxes made since;
   * older mailboxes get their HIGHESTMODSEQ at start-up (ensureSchema), imported ones the source's.
   */
  expungedFloor?: number;
}

/** An expunged UID and the MODSEQ of its expunge (QRESYNC's VANISHED), kept as long as the mailbox. */
export interface ExpungedDoc {
  mailbox: number;
  uid: number;
  modseq: number;
}

export interface MessageDoc {
  mailbox: number;
  uid: number;
  modseq: number;
  flags: string[];
  seen: boolean;
  deleted: boolean;
  internalDate: Date;
  size: number;
  /** SHA-256 of the body (the blobs _id). */
  blob: string;
  /** When it was added to this mailbox (RFC 8514 SAVEDATE); absent on messages stored before. */
  savedAt?: Date;
  /** The message's thread (thread-links.ts); absent only until the start-up backfill gives one. */
  threadId?: string;
  /**
   * Random id of the append that wrote it: when the outcome of that write is unknown (the
   * database went away mid-call), this finds the message to settle it (messages.ts).
   */
  delivery?: string;
}

export interface KeywordDoc {
  mailbox: number;
  /** Lower-cased keyword: keywords compare case-insensitively, the first spelling is kept. */
  key: string;
  keyword: string;
}

export interface BlobDoc {
  /** SHA-256 of the body, hex. */
  _id: string;
  /** References from messages; a blob at 0 is dead and only waits to be removed. */
  refs: number;
  size: number;
  /** Random per stored copy of the body: chunks of a dead copy never mix with a new one's. */
  gen: string;
  /** Number of chunks in blob_chunks; 0 when the body is inline in `data`. */
  chunks: number;
  data?: Buffer;
  /** JSON of the MIME index; null when indexing failed (rebuilt on first read). */
  mimeIndex: string | null;
  /** The RFC 8970 preview, computed when stored; absent for bodies stored before (set at first read). */
  preview?: string;
  /**
   * The distinct words SEARCH BODY/TEXT look at (mime/text.ts `searchableWords`), for the text
   * index (text-search.ts). Absent when `wordsListed` is not true.
   */
  words?: string[];
  /** True: `words` lists them all. False: too big or unparseable. Absent: stored before version 2. */
  wordsListed?: boolean;
  createdAt: Date;
}

export interface ChunkDoc {
  blob: string;
  gen: string;
  n: number;
  data: Buffer;
}

/** One position of a user's journal (journal.ts). */
export interface JournalDoc {
  /** "<user>:<pos>", unique like {user, pos}. */
  _id: string;
  user: number;
  /** Position in the user's journal: 1, 2, 3, ... */
  pos: number;
  mailbox: number;
  kind: JournalKind;
  uid: number | null;
  modseq: number | null;
  flags: string[] | null;
  path: string | null;
  oldPath: string | null;
  at: Date;
}

/** A mailbox whose STATUS counters are to be recounted (recount.ts); `_id` is the mailbox's. */
export interface RecountDoc {
  _id: number;
  user: number;
  /** Random per mark: the janitor removes only the mark it acted on, never a newer one. */
  gen: string;
  at: Date;
}

export interface RuleDoc {
  _id: number;
  position: number;
  kind: ConnectionRuleKind;
  cidrs: string[];
  limit: number | null;
  windowSeconds: number | null;
  protocols: RuleProtocol[];
  enabled: boolean;
  note: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface CounterDoc {
  _id: string;
  seq: number;
}

export interface LockDoc {
  _id: string;
  owner: string;
  until: Date;
}

/** A lease (Store.acquireLease): `_id` is its key. Expired ones stay until taken over or released. */
export interface LeaseDoc {
  _id: string;
  holder: string;
  expiresAt: Date;
}

export interface MetaDoc {
  _id: string;
  version: number;
}

/** Counter names (documents of `counters`); each user's journal has one more (journalCounterId). */
export const COUNTERS = ['users', 'mailboxes', 'appPasswords', 'rules', 'rulesVersion'] as const;
export type CounterName = (typeof COUNTERS)[number];

/** The `counters` document of a user's journal positions. */
export function journalCounterId(userId: number): string {
  return `journal:${userId}`;
}

/** Typed handles on the engine's collections. */
export class Collections {
  readonly users: Collection<UserDoc>;
  readonly addresses: Collection<AddressDoc>;
  readonly domains: Collection<DomainDoc>;
  readonly appPasswords: Collection<AppPasswordDoc>;
  readonly mailboxes: Collection<MailboxDoc>;
  readonly messages: Collection<MessageDoc>;
  readonly keywords: Collection<KeywordDoc>;
  readonly blobs: Collection<BlobDoc>;
  readonly chunks: Collection<ChunkDoc>;
  readonly journal: Collection<JournalDoc>;
  readonly rules: Collection<RuleDoc>;
  readonly counters: Collection<CounterDoc>;
  readonly locks: Collection<LockDoc>;
  readonly leases: Collection<LeaseDoc>;
  readonly meta: Collection<MetaDoc>;
  readonly recounts: Collection<RecountDoc>;
  readonly expunged: Collection<ExpungedDoc>;

  constructor(readonly db: Db) {
    this.users = db.collection('users');
    this.addresses = db.collection('addresses');
    this.domains = db.collection('domains');
    this.appPasswords = db.collection('app_passwords');
    this.mailboxes = db.collection('mailboxes');
    this.messages = db.collection('messages');
    this.keywords = db.collection('mailbox_keywords');
    this.blobs = db.collection('blobs');
    this.chunks = db.collection('blob_chunks');
    this.journal = db.collection('user_journal');
    this.rules = db.collection('connection_rules');
    this.counters = db.collection('counters');
    this.locks = db.collection('locks');
    this.leases = db.collection('leases');
    this.meta = db.collection('meta');
    this.recounts = db.collection('mailbox_recounts');
    this.expunged = db.collection('expunged');
  }
}

/** The indexes beyond _id. Unique ones are what make concurrent writers safe without transactions. */
export const INDEXES: ReadonlyArray<{
  collection: keyof Omit<Collections, 'db'>;
  key: Record<string, 1 | -1>;
  unique?: boolean;
}> = [
  { collection: 'users', key: { username: 1 }, unique: true },
  { collection: 'addresses', key: { user: 1 } },
  { collection: 'appPasswords', key: { user: 1 } },
  { collection: 'mailboxes', key: { user: 1, path: 1 }, unique: true },
  { collection: 'messages', key: { mailbox: 1, uid: 1 }, unique: true },
  { collection: 'messages', key: { mailbox: 1, modseq: 1 } },
  // EXPUNGE finds the \Deleted messages, STATUS the unseen ones, without scanning the mailbox.
  { collection: 'messages', key: { mailbox: 1, deleted: 1 } },
  { collection: 'keywords', key: { mailbox: 1, key: 1 }, unique: true },
  { collection: 'chunks', key: { blob: 1, gen: 1, n: 1 }, unique: true },
  // A reader's query per followed user, and the unique position of every entry (the shard key).
  { collection: 'journal', key: { user: 1, pos: 1 }, unique: true },
  { collection: 'journal', key: { at: 1 } },
  { collection: 'rules', key: { position: 1 } },
  // QRESYNC: one UID once (the shard key), and the UIDs expunged since a MODSEQ.
  { collection: 'expunged', key: { mailbox: 1, uid: 1 }, unique: true },
  { collection: 'expunged', key: { mailbox: 1, modseq: 1 } },
];

/** Creates indexes and counters, and checks the schema version. Safe to run from many processes. */
export async function ensureSchema(collections: Collections): Promise<void> {
  const meta = await collections.meta
    .findOneAndUpdate(
      { _id: 'schema' },
      { $setOnInsert: { version: SCHEMA_VERSION } },
      { upsert: true, returnDocument: 'before' },
    )
    .catch(ignoreDuplicate);
  const version = meta?.version ?? SCHEMA_VERSION;
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      'UNAVAILABLE',
      `database schema version ${version} is newer than this server (${SCHEMA_VERSION})`,
    );
  }
  if (version < 2) await upgradeToUserJournals(collections);
  for (const index of INDEXES) {
    await collections[index.collection].createIndex(index.key, index.unique ? { unique: true } : {});
  }
  // SEARCH BODY/TEXT (text-search.ts): words as they are, no stemming or stop words; the bodies
  // without a complete word list are found through the second index.
  await collections.blobs.createIndex({ words: 'text' }, { default_language: 'none', name: 'words_text' });
  await collections.blobs.createIndex({ wordsListed: 1 });
  // A database made by this version: every body gets its word list, so the text index can answer.
  if (meta === null) {
    await collections.meta
      .updateOne({ _id: WORD_LISTS_META }, { $setOnInsert: { version: 1 } }, { upsert: true })
      .catch(ignoreDuplicate);
  }
  await countOlderMailboxes(collections);
  // Mailboxes older than the record of expunged UIDs remember none before their current MODSEQ.
  await setExpungedFloors(collections);
  await recordDomainsOfAddresses(collections);
  for (const name of COUNTERS) {
    await collections.counters
      .updateOne({ _id: name }, { $setOnInsert: { seq: 0 } }, { upsert: true })
      .catch(ignoreDuplicate);
  }
}

/**
 * Mailboxes made before expunged UIDs were recorded remember none at or below their HIGHESTMODSEQ
 * as read here (the later ones are recorded by this version). Safe to run from several servers.
 */
async function setExpungedFloors(collections: Collections): Promise<void> {
  const older = collections.mailboxes.find(
    { expungedFloor: { $exists: false } },
    { projection: { _id: 1, highestModseq: 1 } },
  );
  for await (const mailbox of older) {
    await collections.mailboxes.updateOne(
      { _id: mailbox._id, expungedFloor: { $exists: false } },
      { $set: { expungedFloor: mailbox.highestModseq } },
    );
  }
}

/**
 * Version 1 → 2: the global journal gives way to per-user journals. Its entries are only the last
 * moments' changes for sessions that follow along (every session loads its mailbox afresh when its
 * server starts), so it is dropped, not converted; mailboxes' old global marks are simply no longer
 * read. Marking the database version 2 first makes servers of version 1 refuse to open it, which
 * is why every one of them must be stopped before the first new one starts (README): one still
 * running would go on writing the old journal, which no new server reads. Safe to run from several
 * new servers at once.
 */
async function upgradeToUserJournals(collections: Collections): Promise<void> {
  await collections.meta.updateOne({ _id: 'schema', version: { $lt: 2 } }, { $set: { version: 2 } });
  await collections.db.dropCollection('journal').catch(() => false); // absent: nothing to drop
  await collections.counters.deleteOne({ _id: 'journal' });
}

/** True for E11000: a unique index refused the write. */
export function isDuplicateKey(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 11000 || code === 11001;
}

/** Two processes upserting the same new document at once: one of them gets E11000, harmlessly. */
/**
 * Domain records arrived after users and aliases did: the first start of a server that has them
 * makes a record for every domain an address is in, so nothing stops working. Done once (a `meta`
 * mark); safe from several processes at once (upserts).
 */
async function recordDomainsOfAddresses(collections: Collections): Promise<void> {
  if (await collections.meta.findOne({ _id: DOMAINS_META })) return;
  const addresses = await collections.addresses.find({}, { projection: { _id: 1 } }).toArray();
  for (const name of new Set(addresses.map((address) => domainOfAddress(address._id)))) {
    if (name === '') continue;
    await collections.domains
      .updateOne({ _id: name }, { $setOnInsert: { dkim: true, createdAt: new Date() } }, { upsert: true })
      .catch(ignoreDuplicate);
  }
  await collections.meta
    .updateOne({ _id: DOMAINS_META }, { $setOnInsert: { version: 1 } }, { upsert: true })
    .catch(ignoreDuplicate);
}

const DOMAINS_META = 'domains';

function ignoreDuplicate(error: unknown): null {
  if (isDuplicateKey(error)) return null;
  throw error;
}

/**
 * Gives mailboxes made before the STATUS counters their counters, from one aggregation each.
 * Runs when a store opens; servers of an older version writing meanwhile would not keep them (stop
 * them all before upgrading).
 */
async function countOlderMailboxes(collections: Collections): Promise<void> {
  // Counted before the \Deleted counter: that one is counted through the {mailbox, deleted} index.
  const withoutDeleted = await collections.mailboxes
    .find({ messageCount: { $exists: true }, deletedCount: { $exists: false } }, { projection: { _id: 1 } })
    .toArray();
  for (const { _id } of withoutDeleted) {
    const deleted = await collections.messages.countDocuments({ mailbox: _id, deleted: true });
    await collections.mailboxes.updateOne(
      { _id, deletedCount: { $exists: false } },
      { $set: { deletedCount: deleted } },
    );
  }
  const uncounted = await collections.mailboxes
    .find({ messageCount: { $exists: false } }, { projection: { _id: 1 } })
    .toArray();
  for (const { _id } of uncounted) {
    const totals = await aggregateTotals(collections, _id);
    await collections.mailboxes.updateOne(
      { _id, messageCount: { $exists: false } },
      {
        $set: {
          messageCount: totals.messages,
          unseenCount: totals.unseen,
          byteCount: totals.bytes,
          deletedCount: totals.deleted,
        },
      },
    );
  }
}
