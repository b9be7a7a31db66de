/**
 * The backup file format: one file per backup, portable between store engines.
 *
 *   MALLARD-BACKUP 1\n          magic and format version, plain text
 *   {header}\n                  JSON: when, which engine, whether encrypted (what `list` shows)
 *   payload                     gzip of the records, or age(gzip(records)) with a passphrase
 *
 * The records are a stream of JSON lines; a message record is followed by exactly `size` raw bytes
 * and a newline, so bodies are stored byte for byte and never escaped. The last record is `end`,
 * the manifest: a backup without it was cut short. gzip's CRC and age's authenticated chunks catch
 * damaged bytes; each message's SHA-256 (its blob id in the store) is checked again by `verify`
 * and by restore.
 *
 * A logical format rather than the sqlite file (db.backup()): one format for both engines, restore
 * into either engine, and verify without opening a database.
 *
 * Versions: a reader reads every version up to its own (READABLE_VERSIONS), so old backups always
 * restore; the version goes up whenever a writer puts in something an older reader would drop or
 * refuse (a record type, or a field whose loss loses data), so that an older Mallard refuses a newer
 * backup instead of restoring part of it. Fields added in a version are optional: absent in backups
 * of an earlier one, where restore goes without them.
 *   1  users, mailboxes, messages, domains, rules, history, the outbound queue
 *   2  Sieve scripts and the administrator's script (`sieve-before`), METADATA entries, save dates,
 *      where IMAP imports stand
 *   3  the Sieve memory (vacation replies sent, duplicate ids seen), so that a restored server
 *      does not answer the same senders again; each message's thread id (RFC 8474 THREADID),
 *      which restore keeps
 */
import type { Flag, SpecialUse } from '../store/types.ts';

export const MAGIC = 'MALLARD-BACKUP';
export const FORMAT_VERSION = 3;
export const READABLE_VERSIONS: readonly number[] = [1, 2, 3];
export const BACKUP_SUFFIX = '.mbk';

export interface BackupHeader {
  format: 'mallard-backup';
  version: number;
  createdAt: string;
  engine: string;
  hostname: string;
  encrypted: boolean;
  compression: 'gzip';
}

export interface DomainRecord {
  t: 'domain';
  name: string;
  dkim: boolean;
}

export interface RulesRecord {
  t: 'rules';
  rules: Array<{
    kind: string;
    cidrs: string[];
    limit: number | null;
    windowSeconds: number | null;
    protocols: string[];
    enabled: boolean;
    note: string;
  }>;
}

export interface HistoryRecord {
  t: 'history';
  days: Array<{ day: string; local: number; sent: number; deferred: number; bounced: number }>;
}

export interface UserRecord {
  t: 'user';
  username: string;
  passwordHash: string;
  name: string;
  disabled: boolean;
  quotaBytes: number;
  saveSentCopy: boolean;
  /** IMAP UIDONLY offered (null: the server's default); absent in older backups. */
  uidOnly?: boolean | null;
  /** Aliases and catch-alls (the primary address is the username). */
  addresses: string[];
  appPasswords: Array<{ label: string; hash: string }>;
  spam: Array<{ list: 'allow' | 'block'; pattern: string }>;
  subscriptions: string[];
  /** Since version 2: the user's Sieve scripts, by name; at most one active. */
  sieve?: Array<{ name: string; content: string; active: boolean }>;
  /** Since version 2: the user's server METADATA entries (RFC 5464). */
  metadata?: BackupMetadata[];
  /** Since version 2: where the user's imports from other IMAP servers stand, so they resume. */
  imports?: Array<{ source: string; folder: string; uidValidity: number; lastUid: number }>;
  /**
   * Since version 3: the user's Sieve memory not yet expired (`vacation:HANDLE\0SENDER`: a
   * vacation reply sent to SENDER; `duplicate:ID`: a message id seen), with its expiry (ISO 8601).
   */
  sieveMemory?: Array<{ key: string; expiresAt: string }>;
}

/** A METADATA entry: its name and its value's bytes in base64 (values may be binary). */
export interface BackupMetadata {
  name: string;
  value: string;
}

/**
 * Since version 2: the administrator's Sieve script (inbound.sieve_before), run before every
 * user's; it lives in a file beside the configuration, not in the store.
 */
export interface SieveBeforeRecord {
  t: 'sieve-before';
  /** Where the server read it from. */
  path: string;
  content: string;
}

export interface MailboxRecord {
  t: 'mailbox';
  user: string;
  path: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  selectable: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** Since version 2: the mailbox's METADATA entries. */
  metadata?: BackupMetadata[];
}

/** Followed by `size` bytes of the body and a newline. */
export interface MessageRecord {
  t: 'message';
  uid: number;
  modseq: number;
  flags: Flag[];
  internalDate: string;
  /** Since version 2: when it was saved into the mailbox (SAVEDATE); absent when none is known. */
  savedAt?: string;
  /** Since version 3: its thread id (server/store/thread-ids.ts); absent: restore assigns one. */
  threadId?: string;
  size: number;
  sha256: string;
}

/**
 * A message waiting in the outbound queue, with the recipients still pending; followed by `size`
 * bytes. Restored into the queue as new (attempts start again).
 */
export interface OutboundRecord {
  t: 'outbound';
  /** The submitting user's username; null for the server's own mail. */
  user: string | null;
  sender: string;
  recipients: Array<{ address: string; notify: string[] | null; orcpt: string | null }>;
  dsn: { ret: 'FULL' | 'HDRS' | null; envid: string | null };
  size: number;
  sha256: string;
}

/** The records followed by a body. */
export type BodyRecord = MessageRecord | OutboundRecord;

export interface MailboxEndRecord {
  t: 'mailbox-end';
  messages: number;
  bytes: number;
}

/** What a backup holds, per mailbox; the last record. */
export interface ManifestMailbox {
  user: string;
  path: string;
  messages: number;
  bytes: number;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** SHA-256 over the mailbox's body hashes in UID order: one line to compare a restore with. */
  digest: string;
}

export interface EndRecord {
  t: 'end';
  users: number;
  domains: number;
  messages: number;
  bytes: number;
  mailboxes: ManifestMailbox[];
  /** Messages of the outbound queue. */
  outbound: number;
  /** Since version 2: Sieve scripts, METADATA entries (server and mailboxes) and import records, in all. */
  sieveScripts?: number;
  metadata?: number;
  imports?: number;
  /** Since version 3: Sieve memory entries, in all. */
  sieveMemory?: number;
  finishedAt: string;
}

export type BackupRecord =
  | DomainRecord
  | RulesRecord
  | HistoryRecord
  | SieveBeforeRecord
  | UserRecord
  | MailboxRecord
  | MessageRecord
  | OutboundRecord
  | MailboxEndRecord
  | EndRecord;

/** A record as it goes into the payload: its JSON line, then the body when it has one. */
export function encodeRecord(record: BackupRecord, body?: Buffer): Buffer[] {
  const line = Buffer.from(`${JSON.stringify(record)}\n`);
  return body ? [line, body, NEWLINE] : [line];
}

const NEWLINE = Buffer.from('\n');

export class BackupFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupFormatError';
  }
}

/** One record read back; a message's body comes with it. */
export type ReadRecord = { record: Exclude<BackupRecord, BodyRecord> } | { record: BodyRecord; body: Buffer };

/**
 * Splits the decompressed payload into records, holding at most one body (and one chunk) in
 * memory: a backup of any size is read in constant memory.
 */
export async function* readRecords(chunks: AsyncIterable<Buffer>): AsyncGenerator<ReadRecord> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let want: BodyRecord | null = null;
  const take = (count: number): Buffer => {
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    const head = all.subarray(0, count);
    const rest = all.subarray(count);
    pending = rest.length > 0 ? [rest] : [];
    pendingBytes = rest.length;
    return head;
  };
  for await (const chunk of chunks) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    for (;;) {
      if (want) {
        if (pendingBytes < want.size + 1) break;
        const body = Buffer.from(take(want.size + 1).subarray(0, want.size));
        yield { record: want, body };
        want = null;
        continue;
      }
      const newline = indexOfNewline(pending);
      if (newline < 0) {
        if (pendingBytes > MAX_RECORD_LINE) throw new BackupFormatError('a record line is too long');
        break;
      }
      const record = parseRecord(
        take(newline + 1)
          .subarray(0, newline)
          .toString('utf8'),
      );
      if (record.t === 'message' || record.t === 'outbound') want = record;
      else yield { record };
    }
  }
  if (want || pendingBytes > 0) throw new BackupFormatError('the backup ends in the middle of a record');
}

/** Lines hold users and mailboxes, never bodies: a longer one is damage, not data. */
const MAX_RECORD_LINE = 64 * 1024 * 1024;

function indexOfNewline(chunks: Buffer[]): number {
  let offset = 0;
  for (const chunk of chunks) {
    const index = chunk.indexOf(10);
    if (index >= 0) return offset + index;
    offset += chunk.length;
  }
  return -1;
}

const TYPES = new Set([
  'domain',
  'rules',
  'history',
  'sieve-before',
  'user',
  'mailbox',
  'message',
  'mailbox-end',
  'outbound',
  'end',
]);

function parseRecord(line: string): BackupRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new BackupFormatError('a record is not valid JSON');
  }
  const type = (value as { t?: unknown } | null)?.t;
  if (typeof type !== 'string' || !TYPES.has(type)) throw new BackupFormatError('a record of unknown type');
  if (type === 'message' || type === 'outbound') {
    const size = (value as { size?: unknown }).size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new BackupFormatError(`a ${type} record without a valid size`);
    }
  }
  return value as BackupRecord;
}
