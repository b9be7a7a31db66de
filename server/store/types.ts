/**
 * The store contract. Every engine (sqlite now, MongoDB next) implements `Store` and passes the
 * shared contract suite in `contract.ts`. Nothing engine-specific leaks through: ids are strings,
 * dates are `Date`, message bodies are `Buffer`.
 *
 * Invariants every engine keeps:
 * - a UID is never reused or reordered in a mailbox (UIDNEXT only grows);
 * - MODSEQ strictly increases per mailbox with every change to it;
 * - an acknowledged append or delivery is durable (survives kill -9 of the process);
 * - raw bytes come back exactly as they were appended, except that bare LF line ends of appended
 *   and delivered mail are stored as CRLF (RFC 5322; what IMAP and POP3 send: server/mime/line-ends.ts);
 *   a CRLF message, and every imported one, is byte-exact;
 * - identical bodies are stored once (keyed by their SHA-256).
 *
 * The visibility rule (what sessions see, in any number of server processes on one store):
 * - The journal is per user: each user's changes have ids that only grow, and a reader follows
 *   only the users it names (`readJournal` with one position per user), so what a server process
 *   reads grows with the users that have sessions in it, not with the users of the store.
 * - Every change to a mailbox's messages (new message, flag change, expunge) gets an entry in its
 *   user's journal; every id of a user is eventually either such an entry or a `noop` (or, where
 *   ids are shared between users, another user's entry), so a reader that has read a user's
 *   journal up to id N (no id skipped) has seen every change of that user at or below N.
 * - Per mailbox, journal ids, UIDs and MODSEQs are allocated in the same order, so the journal
 *   gives a mailbox's changes in UID and MODSEQ order; a change is journaled only after it is
 *   committed (a reader that sees the entry finds the data).
 * - `Mailbox.highestModseq` and `uidNext` as read may include changes still being written; they
 *   are settled once the reader has read the owner's journal up to `Mailbox.journalMark` (engines
 *   whose writes commit together with their journal entry leave it out: always settled). So a
 *   listing taken after that point and limited to UIDs below that `uidNext` holds every change up
 *   to that `highestModseq`, and later ones come through the journal: a HIGHESTMODSEQ shown to a
 *   client never covers a change it cannot learn with CHANGEDSINCE.
 * - An entry id still missing a short while after a reader first saw the gap (its writer died or
 *   stalls) is filled with a no-op by the reader; a writer that finds its id taken writes its
 *   change again under new ids (a new message under a new UID, its old UID expunged), so nothing
 *   is lost, announced twice, or announced out of order. A writer that dies after its write and
 *   after stalling past that wait leaves its change unannounced to sessions that follow the
 *   journal (a fresh listing shows it): the one window without transactions.
 */
import type { MimeIndex, MimePart } from '../mime/types.ts';
import type { DeliveryDay, DeliveryOutcome } from './history.ts';
import type { CachedStsPolicy } from './mta-sts.ts';
import type { ImportProgress } from './import-progress.ts';
import type { NewOutboundMessage, OutboundMessage, OutboundResult } from './outbound.ts';
import type { SieveMemoryEntry, SieveScriptRecord } from './sieve.ts';
import type { GreylistResult, SpamListEntry, SpamListKind } from './spam.ts';

export type Id = string;

export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive';

/** The mailboxes every new user gets, INBOX first. */
export const DEFAULT_MAILBOXES: ReadonlyArray<{ path: string; specialUse: SpecialUse | null }> = [
  { path: 'INBOX', specialUse: null },
  { path: 'Sent', specialUse: '\\Sent' },
  { path: 'Drafts', specialUse: '\\Drafts' },
  { path: 'Trash', specialUse: '\\Trash' },
  { path: 'Junk', specialUse: '\\Junk' },
  { path: 'Archive', specialUse: '\\Archive' },
];

/** Hierarchy delimiter of mailbox paths. */
export const MAILBOX_DELIMITER = '/';

export interface User {
  id: Id;
  /** The login name and primary address, lower-cased. */
  username: string;
  name: string;
  disabled: boolean;
  /** Storage quota in bytes; 0 means unlimited. */
  quotaBytes: number;
  /** Bytes used by the user's messages (each copy counts). */
  usedBytes: number;
  /** Submission stores a copy of what the user sends in their Sent mailbox (off by default). */
  saveSentCopy: boolean;
  /** IMAP UIDONLY (RFC 9586) offered to this account: null follows the server (imap.uidonly). */
  uidOnly: boolean | null;
  createdAt: Date;
}

export interface NewUser {
  username: string;
  passwordHash: string;
  name?: string;
  quotaBytes?: number;
}

export interface UserPatch {
  name?: string;
  quotaBytes?: number;
  disabled?: boolean;
  saveSentCopy?: boolean;
  /** null: back to the server's default. */
  uidOnly?: boolean | null;
}

export interface UserQuery {
  /** Substring of the username or name, case-insensitive. */
  search?: string;
  offset?: number;
  limit?: number;
}

export type AddressKind = 'primary' | 'alias' | 'catchall';

export interface Address {
  /** Lower-cased; a catch-all is written `*@domain`. */
  address: string;
  userId: Id;
  kind: AddressKind;
}

/**
 * A mail domain this server receives mail for. Every user and alias with an address lives in one;
 * a domain in use cannot be deleted. Made from the addresses of existing users on upgrade, and on
 * the fly when a user or alias is stored in a domain without a record (the admin API and CLI refuse
 * that earlier, with `unknown_domain`; the store keeps the invariant for every other writer).
 */
export interface Domain {
  /** Lower-case, IDNA A-label ("xn--..." for an internationalised name). */
  name: string;
  /**
   * The address (a user's, lower-cased) that receives mail to unknown names of this domain; null
   * for none. Stored as the `*@domain` catch-all address, so `listAddresses` shows it too.
   */
  catchAll: string | null;
  /** Outgoing mail from this domain is DKIM-signed (on by default). */
  dkim: boolean;
  createdAt: Date;
}

export interface DomainUsage {
  users: number;
  aliases: number;
}

export interface DomainPatch {
  catchAll?: string | null;
  dkim?: boolean;
}

export interface AppPassword {
  id: Id;
  userId: Id;
  label: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** What is needed to check a login: the account hash and the app-password hashes. */
export interface Credentials {
  user: User;
  passwordHash: string;
  appPasswords: Array<{ id: Id; hash: string }>;
}

export interface Mailbox {
  id: Id;
  userId: Id;
  /** Full path in UTF-8 with "/" as delimiter; "INBOX" is always spelled so. */
  path: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  /** False for a \Noselect placeholder left when a mailbox with children is deleted. */
  selectable: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /**
   * The id, in the owner's journal, of the latest allocation of a UID or MODSEQ in this mailbox:
   * `uidNext` and `highestModseq` are settled (every change up to them committed and journaled)
   * once the owner's journal has been read up to here. Absent where changes commit together with
   * their entry.
   */
  journalMark?: number;
}

export interface MailboxCounts {
  messages: number;
  unseen: number;
  /** Messages with a UID above the mailbox's recent mark (not yet claimed by a session). */
  recent: number;
  bytes: number;
  /** Messages flagged \Deleted (STATUS DELETED, RFC 9051). */
  deleted: number;
}

/** A mailbox with its STATUS figures, read together (one store call per STATUS command). */
export interface MailboxStatus {
  mailbox: Mailbox;
  counts: MailboxCounts;
}

/** Flags are kept as given: system flags start with "\", keywords do not. "\Recent" is never stored. */
export type Flag = string;

/** What a listing gives for each message: everything but the body and its MIME index. */
export interface MessageSummary {
  mailboxId: Id;
  uid: number;
  modseq: number;
  flags: Flag[];
  internalDate: Date;
  size: number;
  /** Key of the stored body (its SHA-256 in hex). */
  blobId: string;
  /**
   * When the message was added to this mailbox, by append, delivery, copy or move (RFC 8514
   * SAVEDATE); null for messages stored before save dates were recorded.
   */
  savedAt: Date | null;
  /**
   * The message's thread (RFC 8474 THREADID, server/store/thread-ids.ts): the same for every
   * message of one thread of this user, in any mailbox; given at delivery and never changed.
   */
  threadId: string | null;
}

/**
 * The UID, MODSEQ and flags of a mailbox's messages in a compact form, what a selected mailbox's
 * shared state is built from: parallel typed arrays of `count` entries in UID order, each message's
 * flags an index into `flagSets` (the distinct flag lists, each once).
 */
export interface FlagListing {
  count: number;
  uids: Uint32Array<ArrayBuffer>;
  modseqs: Float64Array<ArrayBuffer>;
  flagSetIds: Uint32Array<ArrayBuffer>;
  flagSets: Flag[][];
}

export interface AppendOptions {
  flags?: Flag[];
  internalDate?: Date;
}

/** One message of appendMany. */
export interface AppendItem {
  raw: Buffer;
  options?: AppendOptions;
}

export interface AppendManyOptions {
  /**
   * An IMAP import's progress, recorded for the mailbox's user with the messages: on sqlite in
   * the same transaction (the batch and its record are both stored or neither); on MongoDB right
   * after the messages, so a batch whose record is missing is found again by its bytes.
   */
  importProgress?: ImportProgress;
}

export interface AppendResult {
  uid: number;
  modseq: number;
  uidValidity: number;
  mailboxId: Id;
}

export interface DeliveryResult extends AppendResult {
  userId: Id;
}

export type FlagOperation = 'add' | 'remove' | 'set';

export interface FlagUpdate {
  uid: number;
  modseq: number;
  flags: Flag[];
}

export interface StoreFlagsResult {
  /** Messages whose flags changed (each with its new MODSEQ). */
  updated: FlagUpdate[];
  /** UIDs refused by the UNCHANGEDSINCE guard (their MODSEQ was higher). */
  modified: number[];
}

export interface CopyResult {
  uidValidity: number;
  /** Pairs of [source UID, destination UID], in source UID order. */
  uidMap: Array<[number, number]>;
}

/** A range of UIDs, inclusive on both ends. */
export interface UidRange {
  from: number;
  to: number;
}

export type JournalKind =
  | 'message-new'
  | 'message-flags'
  | 'message-expunge'
  | 'mailbox-create'
  | 'mailbox-rename'
  | 'mailbox-delete'
  /** A name put on, or taken off, the subscription list (mailboxId "0": subscriptions are names). */
  | 'mailbox-subscribe'
  | 'mailbox-unsubscribe'
  /**
   * METADATA entries (RFC 5464) set or removed: `path` is the mailbox ("" and mailboxId "0" for the
   * server entries), `flags` carries the names of the entries changed.
   */
  | 'metadata-change'
  /** A position that carries no change (given up by its writer, or filled by a reader). */
  | 'noop';

/** One change, as other sessions and server processes see it. */
export interface JournalEntry {
  /** Monotonic per user: read the user's entries after the last one seen. */
  id: number;
  userId: Id;
  mailboxId: Id;
  kind: JournalKind;
  uid: number | null;
  modseq: number | null;
  /** The message's flags; for 'metadata-change', the entry names. */
  flags: Flag[] | null;
  /** Mailbox path (new path for a rename). */
  path: string | null;
  oldPath: string | null;
  at: Date;
}

export interface Quota {
  usedBytes: number;
  /** 0 means unlimited. */
  limitBytes: number;
}

/** The protocols a connection rule can be scoped to. */
export type RuleProtocol = 'imap' | 'pop3' | 'lmtp' | 'smtp' | 'submission' | 'managesieve';

export const RULE_PROTOCOLS: readonly RuleProtocol[] = [
  'imap',
  'pop3',
  'lmtp',
  'smtp',
  'submission',
  'managesieve',
];

/**
 * What a connection rule does (server/hooks/rules/<kind>.ts):
 * - `allow`, `deny`: the remote address is in one of `cidrs`;
 * - `max-conn`: more than `limit` concurrent connections from one IP;
 * - `rate`: more than `limit` connections from one IP per minute;
 * - `lockout`: `limit` failed logins per IP or per account within `windowSeconds` (auth only);
 * - `require-tls`: no login on a connection without TLS (auth only).
 */
export type ConnectionRuleKind = 'allow' | 'deny' | 'max-conn' | 'rate' | 'lockout' | 'require-tls';

export const CONNECTION_RULE_KINDS: readonly ConnectionRuleKind[] = [
  'allow',
  'deny',
  'max-conn',
  'rate',
  'lockout',
  'require-tls',
];

export interface ConnectionRule {
  id: Id;
  /** 1-based place in the ordered list; positions are contiguous. The first decisive rule wins. */
  position: number;
  kind: ConnectionRuleKind;
  /** allow / deny: IPv4 and IPv6 addresses and CIDR ranges, in canonical form; empty for the others. */
  cidrs: string[];
  /** max-conn: connections; rate: connections per minute; lockout: failures. Null for the others. */
  limit: number | null;
  /** lockout only: the window failures are counted in, in seconds. Null for the others. */
  windowSeconds: number | null;
  /** The protocols the rule applies to; empty means all. */
  protocols: RuleProtocol[];
  enabled: boolean;
  note: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewConnectionRule {
  kind: ConnectionRuleKind;
  cidrs?: string[];
  limit?: number | null;
  windowSeconds?: number | null;
  protocols?: RuleProtocol[];
  enabled?: boolean;
  note?: string;
  /** Where to insert (1 = first); past the end or absent appends. */
  position?: number;
}

/** Changes to a rule; the result is validated as a whole (e.g. a new kind needs its values). */
export interface ConnectionRulePatch {
  kind?: ConnectionRuleKind;
  cidrs?: string[];
  limit?: number | null;
  windowSeconds?: number | null;
  protocols?: RuleProtocol[];
  enabled?: boolean;
  note?: string;
}

/** A mailbox as another store had it, for `importMailbox` (migration between engines). */
export interface ImportedMailbox {
  path: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
}

/** One message of importMessages. */
export interface ImportItem {
  message: ImportedMessage;
  raw: Buffer;
}

/** A message's metadata as another store had it, for `importMessage`. */
export interface ImportedMessage {
  uid: number;
  modseq: number;
  flags: Flag[];
  internalDate: Date;
  /** The save date it had (RFC 8514); absent or null: none is known (imported messages keep none). */
  savedAt?: Date | null;
  /** The thread id it had (server/store/thread-ids.ts); absent or null: one is assigned here. */
  threadId?: string | null;
}

export interface StoreHealth {
  ok: boolean;
  engine: string;
  detail: string;
}

/** One METADATA entry (RFC 5464): a lower-cased name such as "/private/comment" and its bytes. */
export interface MetadataEntry {
  name: string;
  value: Uint8Array;
}

/** A change to one entry: a value sets it, null removes it. */
export interface MetadataChange {
  name: string;
  value: Uint8Array | null;
}

export interface Store {
  readonly engine: string;

  // --- users ---
  createUser(user: NewUser): Promise<User>;
  getUser(id: Id): Promise<User | null>;
  getUserByUsername(username: string): Promise<User | null>;
  listUsers(query?: UserQuery): Promise<{ users: User[]; total: number }>;
  updateUser(id: Id, patch: UserPatch): Promise<User>;
  setPasswordHash(id: Id, passwordHash: string): Promise<void>;
  /** Deletes the user with all mailboxes, messages, addresses and app passwords. */
  deleteUser(id: Id): Promise<void>;
  /** Looks up a login by username (case-insensitive); null when unknown. */
  getCredentials(username: string): Promise<Credentials | null>;

  // --- addresses ---
  /** Adds an alias (`name@domain`) or a catch-all (`*@domain`). */
  addAddress(userId: Id, address: string): Promise<Address>;
  /** Removes an alias or catch-all; the primary address goes only with its user (CANNOT). */
  removeAddress(address: string): Promise<void>;
  listAddresses(userId: Id): Promise<Address[]>;
  /**
   * Finds the user mail to this address goes to: an exact address, then the address without a
   * "+tag", then the domain's catch-all. Null when nobody receives it.
   */
  resolveRecipient(address: string): Promise<User | null>;

  // --- domains ---
  /** Sorted by name. */
  listDomains(): Promise<Domain[]>;
  /** By name, in either spelling (U-label or A-label, any case); null when unknown. */
  getDomain(name: string): Promise<Domain | null>;
  /** INVALID for a malformed name, ALREADYEXISTS when it exists. */
  createDomain(domain: { name: string }): Promise<Domain>;
  /**
   * Sets the catch-all (an existing user's address, or null for none: NONEXISTENT for an address
   * nobody has) and the DKIM switch. NONEXISTENT for an unknown domain.
   */
  updateDomain(name: string, patch: DomainPatch): Promise<Domain>;
  /**
   * How many users (by primary address) and aliases have an address in the domain: what keeps it
   * from being deleted. NONEXISTENT for an unknown domain.
   */
  domainUsage(name: string): Promise<DomainUsage>;
  /** Removes the domain and its catch-all; CANNOT while users or aliases use it (the message says how many). */
  deleteDomain(name: string): Promise<void>;

  // --- app passwords ---
  createAppPassword(userId: Id, label: string, hash: string): Promise<AppPassword>;
  listAppPasswords(userId: Id): Promise<AppPassword[]>;
  deleteAppPassword(userId: Id, id: Id): Promise<void>;
  /** Records a use now; an unknown id is ignored (it may have been revoked meanwhile). */
  touchAppPassword(id: Id): Promise<void>;

  // --- mailboxes ---
  /** INBOX first. Getters return null (lists: empty) for unknown ids rather than throwing. */
  listMailboxes(userId: Id): Promise<Mailbox[]>;
  /** By path; "INBOX" matches case-insensitively. */
  getMailbox(userId: Id, path: string): Promise<Mailbox | null>;
  getMailboxById(mailboxId: Id): Promise<Mailbox | null>;
  /**
   * Creates the mailbox and any missing parents, without subscribing them (subscriptions are the
   * client's list, RFC 3501 6.3.6: only the default mailboxes of a new account start subscribed).
   * When the path is a \Noselect placeholder, the placeholder becomes selectable, with a new
   * UIDVALIDITY.
   */
  createMailbox(userId: Id, path: string, specialUse?: SpecialUse | null): Promise<Mailbox>;
  /**
   * Refuses INBOX; a mailbox with children becomes \Noselect, its messages removed (deleting a
   * \Noselect mailbox that has children is CANNOT, RFC 3501). A \Noselect parent whose last child
   * goes stays.
   */
  deleteMailbox(userId: Id, path: string): Promise<void>;
  /**
   * Renames a mailbox and its children. Renaming INBOX moves its messages to a new mailbox and
   * leaves INBOX empty (RFC 3501).
   */
  renameMailbox(userId: Id, from: string, to: string): Promise<void>;
  /**
   * Subscriptions are a list of names of their own (RFC 3501 6.3.6): a name may be subscribed
   * whether or not a mailbox has it, and DELETE or RENAME of a mailbox leaves the list alone (as
   * Dovecot does), so LIST (SUBSCRIBED) can show `\Subscribed \NonExistent`. `Mailbox.subscribed`
   * says whether an existing mailbox's name is on the list. INVALID for a malformed name.
   */
  setSubscribed(userId: Id, path: string, subscribed: boolean): Promise<void>;
  /** The subscribed names, sorted; [] for an unknown user. */
  listSubscriptions(userId: Id): Promise<string[]>;
  /**
   * METADATA entries (RFC 5464) of a mailbox, or of the user's server entries for path "", sorted
   * by name. They belong to the mailbox, not its name: they follow a RENAME (INBOX's stay with
   * INBOX) and go with DELETE (also when the mailbox stays as a \Noselect placeholder) and with the
   * user. NONEXISTENT for an unknown user or mailbox.
   */
  getMetadata(userId: Id, path: string): Promise<MetadataEntry[]>;
  /**
   * Applies the changes together (names are stored as given: the caller lower-cases them). LIMIT,
   * with nothing changed, when the mailbox (or the server) would hold more than maxEntries entries.
   */
  setMetadata(
    userId: Id,
    path: string,
    changes: readonly MetadataChange[],
    maxEntries: number,
  ): Promise<void>;
  /**
   * The URLAUTH key of a mailbox (RFC 4467's mailbox access key): 32 secret random bytes the engine
   * makes the first time `create` asks for one; null when there is none and `create` is false. It
   * belongs to the mailbox (a RENAME keeps it) and goes with DELETE and resetUrlAuthKeys.
   * NONEXISTENT for an unknown or non-selectable mailbox.
   */
  urlAuthKey(mailboxId: Id, create: boolean): Promise<Buffer | null>;
  /**
   * RESETKEY (RFC 4467): forgets the URLAUTH key of one of the user's mailboxes (NONEXISTENT when
   * it is not one), or of all of them (null); every URL made with a forgotten key stops working.
   */
  resetUrlAuthKeys(userId: Id, mailboxId: Id | null): Promise<void>;
  /**
   * STATUS figures. They agree with listMessages, except for a few seconds after a writer of the
   * mailbox's user died half-way (kill -9): an engine that keeps them as counters repairs them once
   * the dead writer's journal positions are given up (by a reader, see readJournal), and never
   * makes them wrong by the repair.
   */
  mailboxCounts(mailboxId: Id): Promise<MailboxCounts>;
  /**
   * The mailbox at `path` (as getMailbox finds it) with its mailboxCounts, in one call and without
   * work that grows with the mailbox: what STATUS needs. Null when there is no such mailbox.
   */
  mailboxStatus(userId: Id, path: string): Promise<MailboxStatus | null>;
  /**
   * Claims the \Recent messages of a mailbox for one session: returns the highest UID claimed
   * before and moves the mark to the current UIDNEXT-1, atomically, so exactly one session sees
   * each message as recent.
   */
  claimRecent(mailboxId: Id): Promise<{ previous: number; current: number }>;

  // --- messages ---
  /** Appends raw bytes; checks the quota first (StoreError OVERQUOTA). */
  append(mailboxId: Id, raw: Buffer, options?: AppendOptions): Promise<AppendResult>;
  /**
   * Appends several messages to one mailbox, all or nothing (IMAP MULTIAPPEND, RFC 3502): the quota
   * is checked for them together, and when any fails none is stored; no other session ever sees
   * some of them without the others. Results in the order given, with consecutive UIDs.
   */
  appendMany(
    mailboxId: Id,
    messages: readonly AppendItem[],
    options?: AppendManyOptions,
  ): Promise<AppendResult[]>;
  /**
   * Replaces a message (IMAP REPLACE, RFC 8508): appends `raw` to `targetMailboxId` (the same
   * mailbox or another of the user's) and removes message `uid` of `mailboxId`, both or neither:
   * NONEXISTENT (nothing appended) when that message is gone. The quota counts the old message as
   * gone where the engine can do both at once (sqlite); MongoDB appends first.
   */
  replaceMessage(
    mailboxId: Id,
    uid: number,
    targetMailboxId: Id,
    raw: Buffer,
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /** Resolves the recipient and appends to its INBOX (StoreError NONEXISTENT for nobody). */
  deliver(recipient: string, raw: Buffer, options?: AppendOptions): Promise<DeliveryResult>;
  /** Summaries in UID order, optionally limited to UID ranges and to MODSEQ > changedSince. */
  listMessages(
    mailboxId: Id,
    filter?: { uids?: UidRange[]; changedSince?: number },
  ): Promise<MessageSummary[]>;
  /**
   * UID, MODSEQ and flags of every message with a UID below `uidBelow`, in UID order, as one
   * FlagListing: what listMessages gives for them, without an object per message (a mailbox of
   * 100,000 messages is selected with a few MB). NONEXISTENT for an unknown mailbox.
   */
  listFlags(mailboxId: Id, uidBelow: number): Promise<FlagListing>;
  getMessage(mailboxId: Id, uid: number): Promise<MessageSummary | null>;
  readBlob(blobId: string): Promise<Buffer>;
  /**
   * Several bodies at once (a FETCH batch), by blob id. Blobs that do not exist (any more) are
   * simply absent from the map; duplicates in `blobIds` are read once. The caller bounds the total
   * size it asks for.
   */
  readBlobs(blobIds: readonly string[]): Promise<Map<string, Buffer>>;
  /**
   * The first `bytes` bytes of several bodies (their headers, for THREAD's References), by blob id;
   * gone ones are absent. The engine reads no more than it must where it can.
   */
  readBlobHeads(heads: ReadonlyArray<{ blobId: string; bytes: number }>): Promise<Map<string, Buffer>>;
  readMimeIndex(blobId: string): Promise<MimeIndex>;
  /**
   * The RFC 8970 previews of several bodies (mime/preview.ts), by blob id; gone ones are absent.
   * Each is computed once, when the body is stored (every delivery path goes through the store);
   * a body stored before previews were kept gets its own computed and saved at its first read.
   */
  readPreviews(blobIds: readonly string[]): Promise<Map<string, string>>;
  /**
   * Several MIME indexes at once (a SEARCH batch), by blob id; gone ones are absent. Optional: an
   * engine without it is asked `readMimeIndex` per body (cheap where the store is local).
   */
  readMimeIndexes?(blobIds: readonly string[]): Promise<Map<string, MimeIndex>>;
  /**
   * What SORT and THREAD read of several MIME indexes (SortFields), by blob id; gone ones are
   * absent. Optional: an engine that can pick these parts out where the index is stored sends
   * far less than whole indexes (readMimeIndexes), which SORT reads otherwise.
   */
  readSortFields?(blobIds: readonly string[]): Promise<Map<string, SortFields>>;
  /**
   * Arrival time, size and body of every message of a mailbox, in UID order, as parallel arrays:
   * what SORT by ARRIVAL or SIZE needs, and one copy between threads instead of an object per
   * message. Optional: SORT lists the summaries (listMessages) otherwise.
   */
  listSortBasics?(mailboxId: Id): Promise<SortBasics>;
  /**
   * Narrows SEARCH BODY/TEXT: the ids of the bodies that may contain `needle` (case-folded) in the
   * header fields or decoded text those keys look at. Every body that does is among them (more
   * may be: the caller still checks each), so the answer stays exact. Null when the engine cannot
   * narrow it down for this needle (no index, or the needle has no word it can look up).
   * Optional: an engine without it has every body read.
   */
  textCandidates?(needle: string): Promise<ReadonlySet<string> | null>;
  storeFlags(
    mailboxId: Id,
    uids: number[],
    operation: FlagOperation,
    flags: Flag[],
    unchangedSince?: number,
  ): Promise<StoreFlagsResult>;
  copyMessages(mailboxId: Id, uids: number[], targetMailboxId: Id): Promise<CopyResult>;
  moveMessages(mailboxId: Id, uids: number[], targetMailboxId: Id): Promise<CopyResult>;
  /** Removes messages flagged \Deleted (only among `uids` when given); returns their UIDs. */
  expunge(mailboxId: Id, uids?: number[]): Promise<number[]>;
  /** Removes the given messages whatever their flags; returns the UIDs removed. */
  deleteMessages(mailboxId: Id, uids: number[]): Promise<number[]>;
  /** Keywords ever used in the mailbox (for FLAGS / PERMANENTFLAGS). */
  listKeywords(mailboxId: Id): Promise<string[]>;
  /**
   * The UIDs expunged from the mailbox with a MODSEQ above `modseq` (QRESYNC's VANISHED, RFC 7162),
   * ascending, only those in `uids` when given. Expunged UIDs are remembered as long as the
   * mailbox exists, except those expunged before the store recorded them (a mailbox older than the
   * record, or imported: its source's expunges): null when `modseq` reaches back before what the
   * mailbox remembers, and the caller answers with every missing UID instead (RFC 7162 3.2.5.2).
   */
  expungedSince(mailboxId: Id, modseq: number, uids?: UidRange[]): Promise<number[] | null>;

  // --- migration (copying a whole account from another store, keeping what clients cached) ---
  /**
   * Creates the mailbox with exactly this UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ, or adopts an
   * existing one of that path when it is still empty (a new user's default mailboxes) or already
   * has this UIDVALIDITY (a resumed migration). UIDNEXT and HIGHESTMODSEQ only ever grow.
   * ALREADYEXISTS when a mailbox of that path holds messages under another UIDVALIDITY.
   */
  importMailbox(userId: Id, mailbox: ImportedMailbox): Promise<Mailbox>;
  /**
   * Stores a message under its original UID, MODSEQ, flags and internal date (raw bytes as given),
   * raising the mailbox's UIDNEXT/HIGHESTMODSEQ past them, counting quota and writing the journal.
   * Returns 'exists' and changes nothing when that UID is already there (a resumed migration).
   */
  importMessage(mailboxId: Id, message: ImportedMessage, raw: Buffer): Promise<'imported' | 'exists'>;
  /**
   * importMessage for several messages of one mailbox, in the order given (a restore's batch): the
   * results in that order. sqlite stores them in one transaction (one durable write instead of one
   * per message); MongoDB in a few commands for the whole batch (one insertMany of the messages,
   * one of new bodies, the counters raised once), so when it fails half-way some may stay, and a
   * second call finds them 'exists'. Either way no message is stored twice, and none is visible
   * before its body is complete.
   */
  importMessages(mailboxId: Id, messages: readonly ImportItem[]): Promise<Array<'imported' | 'exists'>>;

  // --- journal (per user: the visibility rule at the top) ---
  /** An id of the user's journal every earlier change of the user is at or below: follow from here. */
  journalHead(userId: Id): Promise<number>;
  /**
   * The entries of the users in `after` (user id → the id last read), each user's oldest first
   * and without skipping an id (a user's run stops before an id not written yet, which is filled
   * with a no-op once it has been missing too long), at most `limit` in all. Users not named are
   * not read.
   */
  readJournal(after: ReadonlyMap<Id, number>, limit?: number): Promise<JournalEntry[]>;

  // --- connection rules ---
  /** Every rule, in position order. */
  listRules(): Promise<ConnectionRule[]>;
  /** Validates (INVALID: bad CIDR, missing or extra limit, unknown protocol) and inserts the rule. */
  createRule(input: NewConnectionRule): Promise<ConnectionRule>;
  updateRule(id: Id, patch: ConnectionRulePatch): Promise<ConnectionRule>;
  /** NONEXISTENT for an unknown id; the rules after it move up one place. */
  deleteRule(id: Id): Promise<void>;
  /** Moves the rule to `position` (clamped to 1..count), shifting the rules in between. */
  moveRule(id: Id, position: number): Promise<ConnectionRule>;
  /**
   * Creates `rules` in order only when no rule was ever created in this store (rulesVersion() is
   * 0), atomically; returns whether it did. For seeding from the configuration file.
   */
  seedRules(rules: NewConnectionRule[]): Promise<boolean>;
  /**
   * A counter that grows with every change to the rules (0: never any rule). Cheap: every server
   * process polls it and reloads the rules when it moves.
   */
  rulesVersion(): Promise<number>;

  // --- leases (locks shared by every process on this store, e.g. the POP3 maildrop lock) ---
  /**
   * Takes the lease `key` for `holder` until now + `ttlMs`, atomically across processes. True
   * when it was free, expired, or already held by `holder` (then its expiry is pushed out: call
   * again to renew before it lapses); false when another holder has it. A holder that dies
   * leaves the lease to expire. INVALID for an empty key or holder or a TTL that is not a positive
   * integer. Clocks of the processes sharing a store are assumed roughly in sync.
   */
  acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up when `holder` has it; does nothing otherwise (e.g. after a takeover). */
  releaseLease(key: string, holder: string): Promise<void>;
  /**
   * Progress marks: where a long job stands (a restore: how many records of its backup are in),
   * durable across a crash so that the job continues there when run again. A mark is a count
   * under a name (1..200 characters); null when none is set.
   */
  getProgressMark(name: string): Promise<number | null>;
  /** Sets the mark (a non-negative integer), or removes it with null. */
  setProgressMark(name: string, value: number | null): Promise<void>;

  // --- the outbound queue (server/store/outbound.ts) ---
  /** Queues a message for remote recipients; durable when the promise resolves (a 250 may follow). */
  enqueueOutbound(message: NewOutboundMessage): Promise<OutboundMessage>;
  /**
   * Takes up to `limit` messages that have a recipient due (queued or deferred, next attempt at or
   * before `now`) and no live lease of another holder, leasing each to `holder` for `leaseMs`,
   * atomically across processes: two workers never hold one message. Oldest due first. A message
   * `holder` itself still leases is not offered again (it is being delivered) until released.
   */
  claimOutbound(holder: string, leaseMs: number, limit: number, now?: Date): Promise<OutboundMessage[]>;
  /**
   * Records one recipient's result, only while `holder` holds the message's lease and the
   * recipient is still pending; returns whether it was recorded. Attempts count up by one.
   */
  recordOutbound(id: string, holder: string, address: string, result: OutboundResult): Promise<boolean>;
  /**
   * Extends `holder`'s live lease to `leaseMs` from now (a delivery still running); false when the
   * lease is no longer `holder`'s. Leases stay short, so a worker that died (kill -9) leaves its
   * messages to the others, or to itself after a restart, within one lease.
   */
  renewOutbound(id: string, holder: string, leaseMs: number): Promise<boolean>;
  /** Gives the message's lease up (when `holder` has it). */
  releaseOutbound(id: string, holder: string): Promise<void>;
  /** The message's bytes as queued; NONEXISTENT when it is gone (deleted). */
  readOutboundRaw(id: string): Promise<Buffer>;
  getOutbound(id: string): Promise<OutboundMessage | null>;
  /** Every queued message, oldest first (finished ones too until deleted or purged). */
  listOutbound(): Promise<OutboundMessage[]>;
  /** Makes every pending recipient due now; NONEXISTENT for an unknown id. */
  retryOutbound(id: string): Promise<OutboundMessage>;
  /** Removes the message whatever its state; NONEXISTENT for an unknown id. */
  deleteOutbound(id: string): Promise<void>;

  // --- the delivery history (server/store/history.ts) ---
  /**
   * Adds `count` (default 1) to the outcome's counter of `day` ("YYYY-MM-DD"), atomically across
   * processes. INVALID for a malformed day, an unknown outcome or a count that is not positive.
   */
  countDelivery(day: string, outcome: DeliveryOutcome, count?: number): Promise<void>;
  /** The days from `first` to `last` (inclusive) that have counts, oldest first. */
  deliveryHistory(first: string, last: string): Promise<DeliveryDay[]>;

  // --- where an import from another IMAP server stands (server/store/import-progress.ts) ---
  /** Records a source folder's UIDVALIDITY and highest imported UID; NONEXISTENT for no such user. */
  saveImportProgress(userId: Id, progress: ImportProgress): Promise<void>;
  /**
   * What was recorded for the user's folders of `source`, in folder order; without `source`, of
   * every source, by source then folder (what a backup carries).
   */
  listImportProgress(userId: Id, source?: string): Promise<ImportProgress[]>;

  // --- the MTA-STS policy cache (server/store/mta-sts.ts) ---
  /** Keeps the domain's policy (case-insensitive domain), replacing an older one. */
  saveStsPolicy(domain: string, cached: CachedStsPolicy): Promise<void>;
  /** The domain's cached policy, expired or not (the caller decides), or null. */
  getStsPolicy(domain: string): Promise<CachedStsPolicy | null>;

  // --- the spam filter (server/store/spam.ts) ---
  /** The user's allow and block entries, by pattern; [] for an unknown user. */
  listSpamEntries(userId: Id): Promise<SpamListEntry[]>;
  /**
   * Puts a sender address or domain on the user's allow or block list (normalized, see
   * normalizeSpamPattern: INVALID otherwise); a pattern on the other list moves. NONEXISTENT for
   * an unknown user.
   */
  setSpamEntry(userId: Id, list: SpamListKind, pattern: string): Promise<SpamListEntry>;
  /** Takes the pattern off the user's lists; NONEXISTENT when it is on neither. */
  removeSpamEntry(userId: Id, pattern: string): Promise<void>;
  /**
   * Greylisting, atomically across processes: a triplet never seen (or expired) is recorded now and
   * does not pass; one first seen at least `delayMs` ago passes, and is then remembered for
   * `expiryMs` from each pass. A retry too early does not restart its wait.
   */
  greylist(triplet: string, delayMs: number, expiryMs: number, now?: Date): Promise<GreylistResult>;

  // --- Sieve scripts and memory (server/store/sieve.ts) ---
  /** The user's scripts, by name; [] for an unknown user. */
  listSieveScripts(userId: Id): Promise<SieveScriptRecord[]>;
  getSieveScript(userId: Id, name: string): Promise<SieveScriptRecord | null>;
  /** The active script, or null when none is. */
  getActiveSieveScript(userId: Id): Promise<SieveScriptRecord | null>;
  /**
   * Creates or replaces the script (an active one stays active). INVALID for a bad name or an
   * oversized script; NONEXISTENT for an unknown user. The caller has checked that it compiles.
   */
  putSieveScript(userId: Id, name: string, content: string): Promise<SieveScriptRecord>;
  /** Makes `name` the only active script, or none with null; NONEXISTENT for an unknown script. */
  activateSieveScript(userId: Id, name: string | null): Promise<void>;
  /** NONEXISTENT for an unknown script, CANNOT for the active one (RFC 5804 2.10). */
  deleteSieveScript(userId: Id, name: string): Promise<void>;
  /** NONEXISTENT for an unknown script, ALREADYEXISTS when `to` is taken; the active flag moves along. */
  renameSieveScript(userId: Id, from: string, to: string): Promise<void>;
  /**
   * Records `key` for the user until `expiresAt` unless it is recorded and not expired at `now`:
   * true when this call recorded it (e.g. "send the vacation reply"), atomically across processes.
   */
  claimSieveMemory(userId: Id, key: string, expiresAt: Date, now?: Date): Promise<boolean>;
  /** Whether `key` is recorded for the user and not expired at `now`. */
  hasSieveMemory(userId: Id, key: string, now?: Date): Promise<boolean>;
  /** The user's entries not expired at `now`, by key (for backups); [] for an unknown user. */
  listSieveMemory(userId: Id, now?: Date): Promise<SieveMemoryEntry[]>;

  // --- quota and health ---
  getQuota(userId: Id): Promise<Quota>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

/** The parts of a MIME index that SORT and THREAD read (imap/sort/keys.ts). */
export type SortFields = Pick<MimeIndex, 'envelope' | 'date' | 'references'> & {
  root: Pick<MimePart, 'bodyStart'>;
};

/** Store.listSortBasics: entry i of each array is the i-th message in UID order. */
export interface SortBasics {
  uids: Float64Array;
  /** Internal dates, epoch ms. */
  arrivals: Float64Array;
  sizes: Float64Array;
  blobIds: string[];
}
