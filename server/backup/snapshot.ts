/**
 * Reads a store, through the contract only, as a stream of backup records (format.ts): domains,
 * connection rules, the delivery history, the administrator's Sieve script, then each user (with
 * their Sieve scripts, server METADATA and import records) with their mailboxes (with their
 * METADATA) and messages (with their save dates).
 *
 * Consistency is per mailbox: each mailbox's messages are those of one listing (UIDs, flags and
 * MODSEQs as of that moment), and its HIGHESTMODSEQ covers every MODSEQ in the listing. Mail that
 * arrives in a mailbox after its listing is in the next backup; a message expunged between the
 * listing and the reading of its body is left out (and counted as such in the mailbox's end record).
 * Bodies are read in batches of at most `batchBytes`: memory stays bounded whatever the account's size.
 */
import { createHash } from 'node:crypto';
import { isStoreError } from '../store/errors.ts';
import { dayOf } from '../store/history.ts';
import { isPending } from '../store/outbound.ts';
import type { Mailbox, Store, User } from '../store/types.ts';
import { allUsers, DEFAULT_BATCH_BYTES, HISTORY_START, sizedBatches } from '../store/walk.ts';
import {
  encodeRecord,
  type BackupMetadata,
  type DomainRecord,
  type EndRecord,
  type ManifestMailbox,
  type MessageRecord,
  type OutboundRecord,
  type UserRecord,
} from './format.ts';

export interface SnapshotOptions {
  /** Most bytes of bodies read at once (default 8 MiB). */
  batchBytes?: number;
  onProgress?: (progress: SnapshotProgress) => void;
  signal?: AbortSignal;
  /** Given the manifest once every record is out. */
  onManifest?: (manifest: EndRecord) => void;
  /** The administrator's Sieve script (inbound.sieve_before), read by the caller; null: none. */
  sieveBefore?: { path: string; content: string } | null;
}

export interface SnapshotProgress {
  user: string;
  mailbox: string;
  messages: number;
  bytes: number;
}

export class BackupAborted extends Error {
  constructor() {
    super('the backup was interrupted');
    this.name = 'BackupAborted';
  }
}

/** The records of a backup of `store`, encoded; the manifest (`end`) comes last. */
export async function* snapshotStore(store: Store, options: SnapshotOptions = {}): AsyncGenerator<Buffer> {
  const manifest: EndRecord = {
    t: 'end',
    users: 0,
    domains: 0,
    messages: 0,
    bytes: 0,
    mailboxes: [],
    outbound: 0,
    sieveScripts: 0,
    metadata: 0,
    imports: 0,
    sieveMemory: 0,
    finishedAt: '',
  };
  for (const domain of await store.listDomains()) {
    const record: DomainRecord = { t: 'domain', name: domain.name, dkim: domain.dkim };
    manifest.domains++;
    yield* encodeRecord(record);
  }
  const rules = await store.listRules();
  yield* encodeRecord({
    t: 'rules',
    rules: rules.map((r) => ({
      kind: r.kind,
      cidrs: r.cidrs,
      limit: r.limit,
      windowSeconds: r.windowSeconds,
      protocols: r.protocols,
      enabled: r.enabled,
      note: r.note,
    })),
  });
  yield* encodeRecord({ t: 'history', days: await store.deliveryHistory(HISTORY_START, dayOf(new Date())) });
  if (options.sieveBefore) yield* encodeRecord({ t: 'sieve-before', ...options.sieveBefore });
  const users = await allUsers(store);
  for (const user of users) {
    if (options.signal?.aborted) throw new BackupAborted();
    const record = await userRecord(store, user);
    if (!record) continue; // deleted since the listing
    manifest.users++;
    manifest.sieveScripts! += record.sieve!.length;
    manifest.metadata! += record.metadata!.length;
    manifest.imports! += record.imports!.length;
    manifest.sieveMemory! += record.sieveMemory!.length;
    yield* encodeRecord(record);
    const mailboxes = (await store.listMailboxes(user.id)).sort((a, b) => (a.path < b.path ? -1 : 1));
    for (const mailbox of mailboxes) {
      const { metadata, ...entry } = yield* snapshotMailbox(store, user, mailbox, options);
      manifest.mailboxes.push(entry);
      manifest.metadata! += metadata;
      manifest.messages += entry.messages;
      manifest.bytes += entry.bytes;
    }
  }
  manifest.outbound = yield* snapshotOutbound(store, new Map(users.map((u) => [u.id, u.username])));
  manifest.finishedAt = new Date().toISOString();
  yield* encodeRecord(manifest);
  options.onManifest?.(manifest);
}

/** Queued mail not yet sent to all its recipients; those already done are left out. */
async function* snapshotOutbound(
  store: Store,
  usernames: Map<string, string>,
): AsyncGenerator<Buffer, number> {
  let count = 0;
  for (const message of await store.listOutbound()) {
    const pending = message.recipients.filter((r) => isPending(r.state));
    if (pending.length === 0) continue;
    let raw: Buffer;
    try {
      raw = await store.readOutboundRaw(message.id);
    } catch (error) {
      if (isStoreError(error, 'NONEXISTENT')) continue; // sent or deleted since the listing
      throw error;
    }
    const record: OutboundRecord = {
      t: 'outbound',
      user: message.userId === null ? null : (usernames.get(message.userId) ?? null),
      sender: message.sender,
      recipients: pending.map((r) => ({ address: r.address, notify: r.notify, orcpt: r.orcpt })),
      dsn: message.dsn,
      size: raw.length,
      sha256: createHash('sha256').update(raw).digest('hex'),
    };
    count++;
    yield* encodeRecord(record, raw);
  }
  return count;
}

async function userRecord(store: Store, user: User): Promise<UserRecord | null> {
  const credentials = await store.getCredentials(user.username);
  if (!credentials) return null;
  const labels = new Map((await store.listAppPasswords(user.id)).map((p) => [p.id, p.label]));
  return {
    t: 'user',
    username: user.username,
    passwordHash: credentials.passwordHash,
    name: user.name,
    disabled: user.disabled,
    quotaBytes: user.quotaBytes,
    saveSentCopy: user.saveSentCopy,
    uidOnly: user.uidOnly,
    addresses: (await store.listAddresses(user.id)).filter((a) => a.kind !== 'primary').map((a) => a.address),
    appPasswords: credentials.appPasswords.map((p) => ({ label: labels.get(p.id) ?? '', hash: p.hash })),
    spam: (await store.listSpamEntries(user.id)).map((e) => ({ list: e.list, pattern: e.pattern })),
    subscriptions: await store.listSubscriptions(user.id),
    sieve: (await store.listSieveScripts(user.id)).map((s) => ({
      name: s.name,
      content: s.content,
      active: s.active,
    })),
    metadata: await metadataOf(store, user, ''),
    imports: await store.listImportProgress(user.id),
    sieveMemory: (await store.listSieveMemory(user.id)).map((m) => ({
      key: m.key,
      expiresAt: m.expiresAt.toISOString(),
    })),
  };
}

/** METADATA entries in the backup's form; [] when the mailbox went away meanwhile. */
async function metadataOf(store: Store, user: User, path: string): Promise<BackupMetadata[]> {
  try {
    const entries = await store.getMetadata(user.id, path);
    return entries.map((e) => ({ name: e.name, value: Buffer.from(e.value).toString('base64') }));
  } catch (error) {
    if (isStoreError(error, 'NONEXISTENT')) return [];
    throw error;
  }
}

async function* snapshotMailbox(
  store: Store,
  user: User,
  mailbox: Mailbox,
  options: SnapshotOptions,
): AsyncGenerator<Buffer, ManifestMailbox & { metadata: number }> {
  const summaries = mailbox.selectable ? await store.listMessages(mailbox.id) : [];
  const highestModseq = summaries.reduce((max, m) => Math.max(max, m.modseq), mailbox.highestModseq);
  const lastUid = summaries.at(-1)?.uid ?? 0;
  const entry: ManifestMailbox = {
    user: user.username,
    path: mailbox.path,
    messages: 0,
    bytes: 0,
    uidValidity: mailbox.uidValidity,
    uidNext: Math.max(mailbox.uidNext, lastUid + 1),
    highestModseq,
    digest: '',
  };
  const metadata = await metadataOf(store, user, mailbox.path);
  yield* encodeRecord({
    t: 'mailbox',
    user: user.username,
    path: mailbox.path,
    specialUse: mailbox.specialUse,
    subscribed: mailbox.subscribed,
    selectable: mailbox.selectable,
    uidValidity: entry.uidValidity,
    uidNext: entry.uidNext,
    highestModseq: entry.highestModseq,
    metadata,
  });
  const digest = createHash('sha256');
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  for (const batch of sizedBatches(summaries, batchBytes, (m) => m.size)) {
    if (options.signal?.aborted) throw new BackupAborted();
    const bodies = await store.readBlobs(batch.map((m) => m.blobId));
    for (const summary of batch) {
      const body = bodies.get(summary.blobId);
      if (!body) continue; // expunged (and its body gone) since the listing
      const sha256 = createHash('sha256').update(body).digest('hex');
      const record: MessageRecord = {
        t: 'message',
        uid: summary.uid,
        modseq: summary.modseq,
        flags: summary.flags,
        internalDate: summary.internalDate.toISOString(),
        ...(summary.savedAt ? { savedAt: summary.savedAt.toISOString() } : {}),
        ...(summary.threadId ? { threadId: summary.threadId } : {}),
        size: body.length,
        sha256,
      };
      digest.update(`${summary.uid} ${sha256}\n`);
      entry.messages++;
      entry.bytes += body.length;
      yield* encodeRecord(record, body);
    }
    options.onProgress?.({
      user: user.username,
      mailbox: mailbox.path,
      messages: entry.messages,
      bytes: entry.bytes,
    });
  }
  entry.digest = digest.digest('hex');
  yield* encodeRecord({ t: 'mailbox-end', messages: entry.messages, bytes: entry.bytes });
  return { ...entry, metadata: metadata.length };
}

/** The digest a mailbox's messages give (what the manifest holds): UID and body hash, in UID order. */
export function mailboxDigest(messages: Iterable<{ uid: number; sha256: string }>): string {
  const digest = createHash('sha256');
  for (const { uid, sha256 } of messages) digest.update(`${uid} ${sha256}\n`);
  return digest.digest('hex');
}
