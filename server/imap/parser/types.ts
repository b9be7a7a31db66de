/**
 * The typed result of parsing one IMAP command: a discriminated union on `name`.
 *
 * Conventions:
 * - Strings are decoded as UTF-8 (invalid UTF-8 or NUL is a syntax error), except APPEND message
 *   data, which stays a Buffer exactly as received.
 * - Mailbox names are as sent (modified UTF-7 unless UTF8=ACCEPT is enabled; the server decodes
 *   them); `INBOX` in any case is returned as `INBOX`.
 * - Keywords in capitalised lists (ENABLE, STATUS items, options) are upper-cased.
 * - System flags get their canonical case (`\seen` → `\Seen`); keywords are kept as sent.
 * - MODSEQ values are JavaScript numbers. Values up to the protocol's 2^63-1 are accepted and
 *   clamped to Number.MAX_SAFE_INTEGER (2^53-1): our own MODSEQs never get there, so every
 *   comparison keeps its meaning; larger values are syntax errors.
 */
import type { SequenceSet } from './sequence.ts';

// --- FETCH ---

/** A body section. This exact shape is shared with the MIME module's extraction. */
export interface BodySection {
  /** Part numbers: [] for the whole message, [1, 2] for `1.2`. */
  part: number[];
  text: 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | null;
  /** For HEADER.FIELDS(.NOT): the field names, upper-cased. */
  fields?: string[];
}

/** A partial fetch `<offset.length>`. */
export interface FetchPartial {
  offset: number;
  length: number;
}

export type FetchAttributeName =
  | 'FLAGS'
  | 'UID'
  | 'INTERNALDATE'
  | 'RFC822.SIZE'
  | 'ENVELOPE'
  | 'BODY'
  | 'BODYSTRUCTURE'
  | 'MODSEQ'
  /** RFC 8514: when the message was added to its mailbox. */
  | 'SAVEDATE'
  /** RFC 8474 object identifiers. */
  | 'EMAILID'
  | 'THREADID'
  /** RFC 8970, with or without the LAZY modifier (always computed). */
  | 'PREVIEW';

export type FetchItem =
  /** A data item without section. `BODY` here is the non-extensible body structure. */
  | { kind: 'attribute'; name: FetchAttributeName }
  /**
   * Message content: `BODY[...]`, `BODY.PEEK[...]`, and the RFC822 forms mapped onto sections:
   * `RFC822` = BODY[], `RFC822.HEADER` = BODY.PEEK[HEADER], `RFC822.TEXT` = BODY[TEXT].
   * Unless `peek`, fetching sets \Seen.
   */
  | {
      kind: 'body';
      name: 'BODY' | 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT';
      peek: boolean;
      section: BodySection;
      partial?: FetchPartial;
      /**
       * The data item name of the response, normalised: `BODY[1.HEADER.FIELDS (FROM TO)]`,
       * `BODY[]<0>` for a partial (only the origin is echoed, RFC 3501), `RFC822.HEADER`...
       */
      responseName: string;
    }
  /** `BINARY[part]<partial>` / `BINARY.PEEK[...]` (RFC 3516): decoded content of a part. */
  | { kind: 'binary'; peek: boolean; part: number[]; partial?: FetchPartial; responseName: string }
  /** `BINARY.SIZE[part]` (RFC 3516). */
  | { kind: 'binary-size'; part: number[]; responseName: string };

export interface FetchModifiers {
  /** CHANGEDSINCE (RFC 7162): only messages with a greater MODSEQ; implies MODSEQ in responses. */
  changedSince?: number;
  /** VANISHED (RFC 7162, UID FETCH with CHANGEDSINCE only). */
  vanished?: boolean;
  /**
   * PARTIAL (RFC 9394 3.3): only the messages at these positions of the set (ascending, after
   * CHANGEDSINCE), e.g. -1:-50 for the newest fifty.
   */
  partial?: PartialRange;
}

// --- SEARCH ---

/** A calendar date of a SEARCH key (time and timezone do not apply). */
export interface SearchDate {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
}

/**
 * A SEARCH key tree. Normalisations: the flag keys become `flag` (ANSWERED → \Answered set,
 * UNSEEN → \Seen not set, KEYWORD k, UNKEYWORD k, RECENT → \Recent set); NEW = \Recent and not
 * \Seen; OLD = not \Recent; FROM/TO/CC/BCC/SUBJECT are `header` keys (field lower-cased). A
 * parenthesised list, and the top-level list, is an `and` (a single key stands alone).
 */
export type SearchKey =
  | { type: 'all' }
  | { type: 'and'; keys: SearchKey[] }
  | { type: 'or'; left: SearchKey; right: SearchKey }
  | { type: 'not'; key: SearchKey }
  /** Message sequence numbers. */
  | { type: 'seq'; set: SequenceSet }
  | { type: 'uid'; set: SequenceSet }
  | { type: 'flag'; flag: string; set: boolean }
  /** Header field (lower-cased name) containing `value` (case-insensitive substring; "" = present). */
  | { type: 'header'; field: string; value: string }
  | { type: 'body'; value: string }
  | { type: 'text'; value: string }
  /** BEFORE / ON / SINCE: the internal date. */
  | { type: 'internaldate'; op: 'before' | 'on' | 'since'; date: SearchDate }
  /** EMAILID (RFC 8474): the message's EMAILID. */
  | { type: 'emailid'; id: string }
  /** THREADID (RFC 8474): the message's THREADID. */
  | { type: 'threadid'; id: string }
  /** SAVEDBEFORE / SAVEDON / SAVEDSINCE (RFC 8514): the save date. */
  | { type: 'savedate'; op: 'before' | 'on' | 'since'; date: SearchDate }
  /** SENTBEFORE / SENTON / SENTSINCE: the Date header. */
  | { type: 'sentdate'; op: 'before' | 'on' | 'since'; date: SearchDate }
  /** LARGER / SMALLER: RFC822.SIZE strictly larger / smaller. */
  | { type: 'size'; op: 'larger' | 'smaller'; size: number }
  /** MODSEQ (RFC 7162): MODSEQ ≥ modSeq. The entry (a flag's metadata) is informational. */
  | { type: 'modseq'; modSeq: number; entry?: { name: string; entryType: 'priv' | 'shared' | 'all' } }
  /** YOUNGER / OLDER (RFC 5032): internal date within / before the last `seconds`. */
  | { type: 'age'; op: 'younger' | 'older'; seconds: number };

/**
 * ESEARCH return options (RFC 4731), SAVE (RFC 5182), and CONTEXT, UPDATE and PARTIAL (RFC 5267;
 * PARTIAL's range is in the command's `partial`).
 */
export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE' | 'CONTEXT' | 'UPDATE' | 'PARTIAL';

/**
 * RETURN (PARTIAL first:last): positions in the result, 1-based (RFC 5267 4.4); negative ones count
 * from the end, -1 being the last (RFC 9394). Both have the same sign; first ≤ last in magnitude.
 */
export interface PartialRange {
  first: number;
  last: number;
}

// --- LIST / STATUS ---

export type StatusItem =
  | 'MESSAGES'
  | 'RECENT'
  | 'UIDNEXT'
  | 'UIDVALIDITY'
  | 'UNSEEN'
  | 'HIGHESTMODSEQ'
  | 'SIZE'
  | 'DELETED'
  | 'APPENDLIMIT'
  | 'MAILBOXID';

export interface ListSelectOptions {
  subscribed: boolean;
  remote: boolean;
  recursiveMatch: boolean;
  specialUse: boolean;
}

export interface ListReturnOptions {
  subscribed: boolean;
  children: boolean;
  specialUse: boolean;
  myRights: boolean;
  /** RETURN (STATUS (...)) (RFC 5819), null when absent. */
  status: StatusItem[] | null;
}

// --- SELECT ---

export interface QresyncParams {
  uidValidity: number;
  modSeq: number;
  knownUids: SequenceSet | null;
  /** Sequence match data: known sequence numbers and their UIDs. */
  seqMatch: { sequences: SequenceSet; uids: SequenceSet } | null;
}

// --- APPEND ---

export interface AppendMessage {
  flags: string[];
  /** The date-time argument, or null (use the current time). */
  internalDate: Date | null;
  /** The message, exactly as received (NUL bytes are not checked here). */
  data: Buffer;
  /** Sent as literal8 `~{n}` (BINARY, RFC 3516) or inside `UTF8 (...)` (RFC 6855). */
  binary: boolean;
  /** Sent as `UTF8 (~{n})` (RFC 6855). */
  utf8: boolean;
  /** CATENATE (RFC 4469): the parts the message is made of (`data` is then empty). */
  catenate?: CatenatePart[];
}

/** A CATENATE part: `TEXT literal` (literal8 too, RFC 4469 4) or `URL astring`. */
export type CatenatePart = { kind: 'text'; data: Buffer; binary: boolean } | { kind: 'url'; url: string };

// --- commands ---

export type NoArgCommandName =
  | 'CAPABILITY'
  | 'NOOP'
  | 'LOGOUT'
  | 'STARTTLS'
  | 'CHECK'
  | 'CLOSE'
  | 'UNSELECT'
  | 'IDLE'
  | 'NAMESPACE'
  | 'UNAUTHENTICATE';

export type NoArgCommand = { [N in NoArgCommandName]: { tag: string; name: N } }[NoArgCommandName];

export interface AuthenticateCommand {
  tag: string;
  name: 'AUTHENTICATE';
  /** Upper-cased, e.g. `PLAIN`. */
  mechanism: string;
  /** SASL-IR (RFC 4959) initial response, still base64; `=` (empty response) gives ''. */
  initialResponse: string | null;
}

export interface LoginCommand {
  tag: string;
  name: 'LOGIN';
  username: string;
  password: string;
}

export interface SelectCommand {
  tag: string;
  name: 'SELECT' | 'EXAMINE';
  mailbox: string;
  condstore: boolean;
  qresync: QresyncParams | null;
}

export interface CreateCommand {
  tag: string;
  name: 'CREATE';
  mailbox: string;
  /** CREATE-SPECIAL-USE (RFC 6154): `(USE (\Drafts))`. */
  specialUse: string[];
}

export interface MailboxCommand {
  tag: string;
  name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE' | 'GETQUOTAROOT';
  mailbox: string;
}

export interface RenameCommand {
  tag: string;
  name: 'RENAME';
  from: string;
  to: string;
}

export interface ListCommand {
  tag: string;
  name: 'LIST';
  reference: string;
  /** One pattern in the RFC 3501 form; several with LIST-EXTENDED `(p1 p2)`. */
  patterns: string[];
  selectOptions: ListSelectOptions;
  returnOptions: ListReturnOptions;
  /** Any LIST-EXTENDED syntax was used (selection options, pattern list or RETURN). */
  extended: boolean;
}

export interface LsubCommand {
  tag: string;
  name: 'LSUB' | 'XLIST';
  reference: string;
  pattern: string;
}

export interface StatusCommand {
  tag: string;
  name: 'STATUS';
  mailbox: string;
  items: StatusItem[];
}

export interface AppendCommand {
  tag: string;
  name: 'APPEND';
  mailbox: string;
  /** One message, or several with MULTIAPPEND (RFC 3502). */
  messages: AppendMessage[];
}

/** REPLACE / UID REPLACE (RFC 8508): one message replaced by a new one, appended to `mailbox`. */
export interface ReplaceCommand {
  tag: string;
  name: 'REPLACE';
  uid: boolean;
  /** The sequence number, or the UID for UID REPLACE, of the message replaced. */
  target: number;
  mailbox: string;
  message: AppendMessage;
}

export interface ExpungeCommand {
  tag: string;
  name: 'EXPUNGE';
  uid: boolean;
  /** UID EXPUNGE's UID set (RFC 4315); null for EXPUNGE. */
  sequence: SequenceSet | null;
}

export interface SearchCommand {
  tag: string;
  name: 'SEARCH';
  uid: boolean;
  /** Upper-cased `UTF-8` or `US-ASCII`, null when not given. */
  charset: string | null;
  /** ESEARCH `RETURN (...)`; `RETURN ()` gives ['ALL']; null without RETURN (plain SEARCH reply). */
  returnOptions: SearchReturnOption[] | null;
  /** RETURN (PARTIAL range), null without. */
  partial: PartialRange | null;
  criteria: SearchKey;
}

export interface FetchCommand {
  tag: string;
  name: 'FETCH';
  uid: boolean;
  sequence: SequenceSet;
  /** The items; macros (ALL, FAST, FULL) are expanded. */
  items: FetchItem[];
  /** Which macro was used, if any. */
  macro: 'ALL' | 'FAST' | 'FULL' | null;
  modifiers: FetchModifiers;
}

export interface StoreCommand {
  tag: string;
  name: 'STORE';
  uid: boolean;
  sequence: SequenceSet;
  /** FLAGS = set, +FLAGS = add, -FLAGS = remove. */
  operation: 'set' | 'add' | 'remove';
  silent: boolean;
  flags: string[];
  /** UNCHANGEDSINCE (RFC 7162), null when absent. */
  unchangedSince: number | null;
}

export interface CopyCommand {
  tag: string;
  name: 'COPY' | 'MOVE';
  uid: boolean;
  sequence: SequenceSet;
  mailbox: string;
}

export interface IdCommand {
  tag: string;
  name: 'ID';
  /** Field/value pairs in order (`ID NIL` gives null). At most 30 pairs (RFC 2971). */
  params: Array<[string, string | null]> | null;
}

/** CANCELUPDATE "tag" ... (RFC 5267 4.2): stop updating these searches. */
export interface CancelUpdateCommand {
  tag: string;
  name: 'CANCELUPDATE';
  tags: string[];
}

export interface EnableCommand {
  tag: string;
  name: 'ENABLE';
  /** Upper-cased. */
  capabilities: string[];
}

export interface GetQuotaCommand {
  tag: string;
  name: 'GETQUOTA';
  root: string;
}

export interface SetQuotaCommand {
  tag: string;
  name: 'SETQUOTA';
  root: string;
  /** Resource names upper-cased. */
  limits: Array<{ resource: string; limit: number }>;
}

export interface CompressCommand {
  tag: string;
  name: 'COMPRESS';
  /** Upper-cased, e.g. `DEFLATE` (the only one defined, RFC 4978). */
  mechanism: string;
}

/** GETMETADATA's DEPTH (RFC 5464 4.2.2): the entry alone, with its children, or with all below it. */
export type MetadataDepth = 0 | 1 | 'infinity';

export interface GetMetadataCommand {
  tag: string;
  name: 'GETMETADATA';
  /** "" for the server's entries. */
  mailbox: string;
  /** As sent (not yet checked or lower-cased). */
  entries: string[];
  /** MAXSIZE (RFC 5464 4.2.1); null when not given. */
  maxSize: number | null;
  depth: MetadataDepth;
}

export interface SetMetadataCommand {
  tag: string;
  name: 'SETMETADATA';
  /** "" for the server's entries. */
  mailbox: string;
  /** Entry names as sent; a null value removes the entry. */
  values: Array<{ entry: string; value: Buffer | null }>;
}

/** SORT keys (RFC 5256, SORT=DISPLAY RFC 5957). */
export type SortKeyName =
  'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';

export interface SortCriterion {
  key: SortKeyName;
  /** REVERSE came before this key. */
  reverse: boolean;
}

export interface SortCommand {
  tag: string;
  name: 'SORT';
  uid: boolean;
  /** ESORT `RETURN (...)` (RFC 5267 3); null for a plain `* SORT` answer. */
  returnOptions: SearchReturnOption[] | null;
  /** RETURN (PARTIAL range), positions in sort order; null without. */
  partial: PartialRange | null;
  criteria: SortCriterion[];
  /** Upper-cased `UTF-8` or `US-ASCII` (required by SORT). */
  charset: string;
  search: SearchKey;
}

export type ThreadAlgorithm = 'ORDEREDSUBJECT' | 'REFERENCES' | 'REFS';

export interface ThreadCommand {
  tag: string;
  name: 'THREAD';
  uid: boolean;
  algorithm: ThreadAlgorithm;
  charset: string;
  search: SearchKey;
}

/** A NOTIFY mailbox filter (RFC 5465 section 6). */
export type NotifyFilter =
  /** `selected` or `selected-delayed`: the selected mailbox, whichever it is at the time. */
  | { kind: 'selected'; delayed: boolean }
  | { kind: 'inboxes' }
  | { kind: 'personal' }
  | { kind: 'subscribed' }
  /** The mailboxes named (as sent) and every mailbox below them. */
  | { kind: 'subtree'; mailboxes: string[] }
  /** Exactly the mailboxes named (as sent). */
  | { kind: 'mailboxes'; mailboxes: string[] };

export interface NotifyEvent {
  /** In the RFC's spelling when known (MessageNew...), as sent otherwise. */
  name: string;
  /** MessageNew's fetch attributes, when given. */
  fetch: FetchItem[] | null;
}

export interface NotifyGroup {
  filter: NotifyFilter;
  /** Empty for NONE. */
  events: NotifyEvent[];
}

export interface NotifyCommand {
  tag: string;
  name: 'NOTIFY';
  /** NOTIFY SET STATUS: a STATUS for each watched mailbox before the tagged OK. */
  status: boolean;
  /** null for NOTIFY NONE. */
  groups: NotifyGroup[] | null;
}

/** GENURLAUTH (RFC 4467): URL rumps and the mechanism each is to be authorized with. */
export interface GenUrlAuthCommand {
  tag: string;
  name: 'GENURLAUTH';
  urls: Array<{ url: string; mechanism: string }>;
}

/** RESETKEY (RFC 4467): one mailbox (with mechanisms) or, without arguments, all of them. */
export interface ResetKeyCommand {
  tag: string;
  name: 'RESETKEY';
  mailbox: string | null;
  mechanisms: string[];
}

/** URLFETCH (RFC 4467), with RFC 5524's extended form per URL. */
export interface UrlFetchCommand {
  tag: string;
  name: 'URLFETCH';
  urls: UrlFetchItem[];
}

/** One URL of URLFETCH: `url` alone (RFC 4467), or `(url param...)` (RFC 5524). */
export interface UrlFetchItem {
  url: string;
  /** What the extended form asks for; null for a URL alone (its data as an nstring). */
  want: UrlFetchWant | null;
}

/** RFC 5524 3.1: the part as stored (BODY), decoded (BINARY), and its structure. */
export interface UrlFetchWant {
  body: boolean;
  binary: boolean;
  bodyPartStructure: boolean;
}

export type ParsedCommand =
  | NoArgCommand
  | AuthenticateCommand
  | LoginCommand
  | SelectCommand
  | CreateCommand
  | MailboxCommand
  | RenameCommand
  | ListCommand
  | LsubCommand
  | StatusCommand
  | AppendCommand
  | ReplaceCommand
  | ExpungeCommand
  | SearchCommand
  | SortCommand
  | ThreadCommand
  | FetchCommand
  | StoreCommand
  | CopyCommand
  | IdCommand
  | EnableCommand
  | CancelUpdateCommand
  | GetQuotaCommand
  | SetQuotaCommand
  | CompressCommand
  | GetMetadataCommand
  | SetMetadataCommand
  | NotifyCommand
  | GenUrlAuthCommand
  | ResetKeyCommand
  | UrlFetchCommand;

export type CommandName = ParsedCommand['name'];

export interface ParseOptions {
  /** Deepest nesting of SEARCH keys (parentheses, NOT, OR) accepted. Default 100. */
  maxSearchDepth?: number;
}
