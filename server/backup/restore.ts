/**
 * `restore`: puts a backup back into a store, through the contract, so it works into either engine
 * and into a running server (every message goes through the store's journal: connected sessions
 * see restored mail as they see new mail).
 *
 * - The whole backup goes only into a store without users (a new data directory or database).
 * - One user (`user`), or one of their mailboxes (`mailbox`), goes into any store: a user that does
 *   not exist is created as the backup had them; one that exists keeps their password and settings.
 * - A mailbox that is missing, empty, or has the backup's UIDVALIDITY gets its messages under their
 *   own UIDs, MODSEQs and UIDVALIDITY (clients keep their caches; restoring twice adds nothing).
 *   A mailbox that holds other mail is added to under new UIDs, skipping bodies it already has,
 *   and the report says so.
 *
 * - Sieve scripts, METADATA entries and import records come back with their user or mailbox; into
 *   an existing user only those they lack (their own are newer than the backup), and a backup's
 *   active script only becomes active when the user has none.
 *
 * - The Sieve memory (vacation replies sent, duplicate ids seen) comes back with its user, so a
 *   restored server does not answer the same senders again within the vacation period.
 *
 * The backup is verified (read through once) before anything is written: a damaged backup
 * restores nothing.
 *
 * A whole-server restore that stops half-way (killed, or cancelled) continues where it stopped
 * when run again with the same backup: it keeps a progress mark in the store (Store.setProgressMark,
 * named after the backup), the number of records whose writes are durable, written after each batch
 * of messages and each other record. Run again, the store's users are no reason to refuse when the
 * mark is there: the records before it only set the scene again (which user, which mailbox), and
 * the rest is restored as before; a batch in flight at the crash is found 'exists' where it got
 * in. The mark goes once the restore is complete.
 *
 * Cancelling (options.signal) stops after the batch in flight, with the mark written: a cancelled
 * whole-server restore continues when run again, a cancelled user restore adds the rest.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isStoreError } from '../store/errors.ts';
import { DELIVERY_OUTCOMES } from '../store/history.ts';
import type { DsnNotify, RecipientDsn } from '../store/outbound.ts';
import type {
  ConnectionRuleKind,
  Mailbox,
  NewConnectionRule,
  RuleProtocol,
  Store,
  User,
} from '../store/types.ts';
import {
  readRecords,
  type BackupMetadata,
  type BackupRecord,
  type BodyRecord,
  type MailboxRecord,
  type MessageRecord,
  type OutboundRecord,
  type ReadRecord,
  type RulesRecord,
  type UserRecord,
} from './format.ts';
import { openPayload, readHeader } from './files.ts';
import { allUsers } from '../store/walk.ts';
import { verifyBackup } from './verify.ts';

export interface RestoreOptions {
  /** Only this user (username, any case). */
  user?: string;
  /** Only this mailbox of `user`. */
  mailbox?: string;
  passphrase: string | null;
  /**
   * Where a whole-server restore writes the administrator's Sieve script (inbound.sieve_before of
   * the restored server); without it, the report says where it was and that it was not written.
   */
  sieveBeforeFile?: string;
  /** Told where the restore stands: first the backup is verified, then messages go in. */
  onProgress?: (progress: RestoreProgress) => void;
  /** Aborted: the restore stops after the batch in flight and throws RestoreCancelled. */
  signal?: AbortSignal;
}

export interface RestoreProgress {
  phase: 'verifying' | 'restoring';
  /** Messages restored (or found already there) so far, and their bytes. */
  messages: number;
  bytes: number;
}

export interface RestoredMailbox {
  user: string;
  path: string;
  /** kept: original UIDs and UIDVALIDITY; new-uids: added to a mailbox holding other mail. */
  uids: 'kept' | 'new-uids';
  restored: number;
  /** Already there (the same UID, or the same body in a mailbox restored under new UIDs). */
  skipped: number;
}

export interface RestoreReport {
  users: number;
  mailboxes: RestoredMailbox[];
  messages: number;
  bytes: number;
  /** Messages put back into the outbound queue. */
  outbound: number;
  notes: string[];
}

export class RestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreError';
  }
}

/** The restore was cancelled; `report` says what was restored until then. */
export class RestoreCancelled extends RestoreError {
  constructor(readonly report: RestoreReport) {
    super(
      `the restore was cancelled after ${report.messages} messages; ` +
        'run it again with the same backup to continue where it stopped',
    );
    this.name = 'RestoreCancelled';
  }
}

/** The progress mark of a whole-server restore of `file`: one per backup (its header and size). */
export function restoreMarkName(file: string): string {
  const { header } = readHeader(file);
  const identity = createHash('sha256')
    .update(JSON.stringify(header))
    .update(String(fs.statSync(file).size))
    .digest('hex');
  return `restore:${identity.slice(0, 32)}`;
}

export async function restoreBackup(
  file: string,
  target: Store,
  options: RestoreOptions,
): Promise<RestoreReport> {
  if (options.mailbox !== undefined && options.user === undefined) {
    throw new RestoreError('--mailbox needs --user (whose mailbox)');
  }
  const wanted = options.user?.toLowerCase();
  const mark = wanted === undefined ? restoreMarkName(file) : null;
  const resumeFrom = mark === null ? null : await target.getProgressMark(mark);
  if (wanted === undefined && resumeFrom === null) {
    const present = (await allUsers(target)).length;
    if (present > 0) {
      throw new RestoreError(
        `the target store already has ${present} user(s): restore the whole server into a new data directory ` +
          '(or an empty database), or one user with --user EMAIL',
      );
    }
  }
  options.onProgress?.({ phase: 'verifying', messages: 0, bytes: 0 });
  const check = await verifyBackup(file, options.passphrase);
  if (!check.ok)
    throw new RestoreError(
      `the backup does not verify, nothing restored: ${check.problems.slice(0, 5).join('; ')}`,
    );
  if (wanted !== undefined && !check.mailboxes.some((m) => m.user === wanted)) {
    throw new RestoreError(`the backup has no user ${wanted}`);
  }
  if (
    options.mailbox !== undefined &&
    !check.mailboxes.some((m) => m.user === wanted && sameMailbox(m.path, options.mailbox!))
  ) {
    throw new RestoreError(`the backup has no mailbox ${options.mailbox} of ${wanted}`);
  }
  const run = new Restore(target, wanted, options.mailbox, options.sieveBeforeFile, options.onProgress);
  if (mark !== null) {
    // Before anything is written: from here on, a rerun continues instead of refusing.
    if (resumeFrom === null) await target.setProgressMark(mark, 0);
    run.keepMark(mark, resumeFrom ?? 0);
  }
  const { chunks } = await openPayload(file, options.passphrase);
  for await (const item of readRecords(chunks)) {
    if (options.signal?.aborted) {
      await run.flush();
      throw new RestoreCancelled(run.report);
    }
    await run.next(item);
  }
  await run.flush();
  await run.finishUser();
  if (mark !== null) await target.setProgressMark(mark, null);
  return run.report;
}

/** A batch of restored messages: at most this many, and this many bytes (a bigger one goes alone). */
const BATCH_MESSAGES = 200;
const BATCH_BYTES = 8 * 1024 * 1024;

function importKey(progress: { source: string; folder: string }): string {
  return `${progress.source}\n${progress.folder}`;
}

function sameMailbox(a: string, b: string): boolean {
  return a === b || (a.toUpperCase() === 'INBOX' && b.toUpperCase() === 'INBOX');
}

class Restore {
  readonly report: RestoreReport = { users: 0, mailboxes: [], messages: 0, bytes: 0, outbound: 0, notes: [] };
  private user: { record: UserRecord; target: User; created: boolean } | null = null;
  private mailbox: { target: Mailbox; entry: RestoredMailbox; bodies: Set<string> | null } | null = null;
  private placeholders: string[] = [];

  constructor(
    private readonly store: Store,
    private readonly onlyUser: string | undefined,
    private readonly onlyMailbox: string | undefined,
    private readonly sieveBeforeFile: string | undefined,
    private readonly onProgress: ((progress: RestoreProgress) => void) | undefined,
  ) {}

  private handled = { messages: 0, bytes: 0 };
  /** The progress mark of a whole-server restore, and the records before it (already in). */
  private mark: { name: string; resumeFrom: number } | null = null;
  /** Records read so far; the last batch's messages end at batchEnd. */
  private position = 0;
  private batchEnd = 0;

  private get whole(): boolean {
    return this.onlyUser === undefined;
  }

  private get resuming(): boolean {
    return this.mark !== null && this.mark.resumeFrom > 0;
  }

  keepMark(name: string, resumeFrom: number): void {
    this.mark = { name, resumeFrom };
    if (resumeFrom > 0) {
      this.report.notes.push(`an interrupted restore of this backup continues (at record ${resumeFrom})`);
    }
  }

  /** The next record of the backup: restored, or (before the progress mark) only followed. */
  async next(item: ReadRecord): Promise<void> {
    const position = this.position++;
    if (this.mark && position < this.mark.resumeFrom) {
      await this.replay(item);
      return;
    }
    if (!('body' in item)) await this.record(item.record);
    else if (item.record.t === 'message') {
      await this.message(item.record, item.body, position);
      return; // marked with its batch
    } else await this.outbound(item.record, item.body);
    await this.markDone(position + 1);
  }

  private async markDone(records: number): Promise<void> {
    if (this.mark && this.batch.length === 0) await this.store.setProgressMark(this.mark.name, records);
  }

  /**
   * A record already restored before the interruption: only which user and mailbox the records
   * after it belong to is taken up again; messages count as already there.
   */
  private async replay(item: ReadRecord): Promise<void> {
    const { record } = item;
    if (record.t === 'user') {
      this.user = null;
      const target = await this.store.getUserByUsername(record.username);
      if (!target) return await this.startUser(record);
      this.user = { record, target, created: true };
      this.placeholders = [];
      this.report.users++;
    } else if (record.t === 'mailbox') {
      this.mailbox = null;
      if (!this.user) return;
      if (!record.selectable) return void this.placeholders.push(record.path);
      const target = await this.store.getMailbox(this.user.target.id, record.path);
      if (!target) return await this.startMailbox(record);
      const entry: RestoredMailbox = {
        user: record.user,
        path: record.path,
        uids: 'kept',
        restored: 0,
        skipped: 0,
      };
      this.report.mailboxes.push(entry);
      this.mailbox = { target, entry, bodies: null };
    } else if (record.t === 'mailbox-end') this.mailbox = null;
    else if (record.t === 'message' && this.mailbox && 'body' in item)
      this.counted(this.mailbox.entry, false, item.body);
  }

  async record(record: Exclude<BackupRecord, BodyRecord>): Promise<void> {
    await this.flush();
    switch (record.t) {
      case 'domain':
        if (this.whole) await this.domain(record.name, record.dkim);
        return;
      case 'rules':
        if (this.whole && record.rules.length > 0) await this.rules(record.rules);
        return;
      case 'history':
        if (this.whole) {
          for (const day of record.days) {
            for (const outcome of DELIVERY_OUTCOMES) {
              if (day[outcome] > 0) await this.store.countDelivery(day.day, outcome, day[outcome]);
            }
          }
        }
        return;
      case 'sieve-before':
        if (this.whole) this.sieveBefore(record.path, record.content);
        return;
      case 'user':
        await this.finishUser();
        if (this.whole || record.username === this.onlyUser) await this.startUser(record);
        return;
      case 'mailbox':
        this.mailbox = null;
        if (this.user && (this.onlyMailbox === undefined || sameMailbox(record.path, this.onlyMailbox))) {
          await this.startMailbox(record);
        }
        return;
      case 'mailbox-end':
        this.mailbox = null;
        return;
      case 'end':
        return;
    }
  }

  /** Written where the restored server reads it; a different script already there is kept. */
  private sieveBefore(from: string, content: string): void {
    const file = this.sieveBeforeFile;
    if (!file) {
      this.report.notes.push(
        `the administrator's Sieve script (was ${from}) is in the backup but was not written: no inbound.sieve_before here`,
      );
      return;
    }
    let present: string | null = null;
    try {
      present = fs.readFileSync(file, 'utf8');
    } catch {
      // none yet
    }
    if (present === content) return;
    if (present !== null) {
      this.report.notes.push(`the administrator's Sieve script: ${file} holds another script, it was kept`);
      return;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    this.report.notes.push(`the administrator's Sieve script (was ${from}) written to ${file}`);
  }

  private async domain(name: string, dkim: boolean): Promise<void> {
    try {
      await this.store.createDomain({ name });
    } catch (error) {
      if (!isStoreError(error, 'ALREADYEXISTS')) throw error;
    }
    if (!dkim) await this.store.updateDomain(name, { dkim });
  }

  private async rules(rules: RulesRecord['rules']): Promise<void> {
    const fresh: NewConnectionRule[] = rules.map((rule) => ({
      kind: rule.kind as ConnectionRuleKind,
      cidrs: rule.cidrs,
      limit: rule.limit,
      windowSeconds: rule.windowSeconds,
      protocols: rule.protocols as RuleProtocol[],
      enabled: rule.enabled,
      note: rule.note,
    }));
    if (!(await this.store.seedRules(fresh)))
      this.report.notes.push('connection rules: the target had rules of its own, they were kept');
  }

  private async startUser(record: UserRecord): Promise<void> {
    let target = await this.store.getUserByUsername(record.username);
    // Resuming a whole-server restore: the users here are the ones it made.
    const created = target === null || this.resuming;
    if (!target) {
      // No quota while restoring: the backup held these messages, whatever the quota said.
      target = await this.store.createUser({
        username: record.username,
        passwordHash: record.passwordHash,
        name: record.name,
      });
    }
    this.user = { record, target, created };
    this.placeholders = [];
    this.report.users++;
    const present = new Set((await this.store.listAddresses(target.id)).map((a) => a.address));
    for (const address of record.addresses) {
      if (present.has(address)) continue;
      try {
        await this.store.addAddress(target.id, address);
      } catch (error) {
        if (!isStoreError(error, 'ALREADYEXISTS')) throw error;
        this.report.notes.push(
          `${record.username}: address ${address} belongs to another user here, not restored`,
        );
      }
    }
    const hashes = new Set(
      (await this.store.getCredentials(target.username))?.appPasswords.map((p) => p.hash),
    );
    for (const { label, hash } of record.appPasswords) {
      if (!hashes.has(hash)) await this.store.createAppPassword(target.id, label, hash);
    }
    for (const entry of record.spam) await this.store.setSpamEntry(target.id, entry.list, entry.pattern);
    if (this.onlyMailbox !== undefined) return;
    await this.sieveScripts(target, record.sieve ?? []);
    await this.metadata(target, '', record.metadata ?? []);
    const imported = new Set((await this.store.listImportProgress(target.id)).map(importKey));
    for (const progress of record.imports ?? []) {
      if (!imported.has(importKey(progress))) await this.store.saveImportProgress(target.id, progress);
    }
    await this.sieveMemory(target, record.sieveMemory ?? []);
  }

  /**
   * Who was already answered (and which duplicates seen) until when: an entry the user has here
   * already stays as it is (claimSieveMemory records only a key not live), expired ones are left.
   */
  private async sieveMemory(target: User, entries: NonNullable<UserRecord['sieveMemory']>): Promise<void> {
    const now = new Date();
    for (const entry of entries) {
      const expiresAt = new Date(entry.expiresAt);
      if (expiresAt > now) await this.store.claimSieveMemory(target.id, entry.key, expiresAt, now);
    }
  }

  /** Scripts the user lacks; the backup's active one becomes active when none is. */
  private async sieveScripts(target: User, scripts: NonNullable<UserRecord['sieve']>): Promise<void> {
    if (scripts.length === 0) return;
    const present = new Map((await this.store.listSieveScripts(target.id)).map((s) => [s.name, s]));
    for (const script of scripts) {
      const mine = present.get(script.name);
      if (!mine) await this.store.putSieveScript(target.id, script.name, script.content);
      else if (mine.content !== script.content) {
        this.report.notes.push(
          `${target.username}: Sieve script ${script.name} was changed since the backup, the current one was kept`,
        );
      }
    }
    const active = scripts.find((s) => s.active);
    if (active && ![...present.values()].some((s) => s.active)) {
      await this.store.activateSieveScript(target.id, active.name);
    }
  }

  /** METADATA entries the mailbox (or the server, path "") lacks; its own are newer. */
  private async metadata(target: User, path: string, entries: readonly BackupMetadata[]): Promise<void> {
    if (entries.length === 0) return;
    const present = new Set((await this.store.getMetadata(target.id, path)).map((e) => e.name));
    const missing = entries
      .filter((e) => !present.has(e.name))
      .map((e) => ({ name: e.name, value: new Uint8Array(Buffer.from(e.value, 'base64')) }));
    // No entry limit: the server held them all when the backup was made.
    if (missing.length > 0) await this.store.setMetadata(target.id, path, missing, Number.MAX_SAFE_INTEGER);
  }

  /** Subscriptions, placeholders and the account's settings, once its mailboxes are in. */
  async finishUser(): Promise<void> {
    const user = this.user;
    if (!user) return;
    this.user = null;
    this.mailbox = null;
    const { record, target } = user;
    if (this.onlyMailbox === undefined) {
      for (const path of this.placeholders) await this.makePlaceholder(target, path);
      const subscribed = new Set(await this.store.listSubscriptions(target.id));
      for (const path of record.subscriptions) {
        if (!subscribed.has(path)) await this.store.setSubscribed(target.id, path, true);
      }
    }
    if (user.created) {
      await this.store.updateUser(target.id, {
        quotaBytes: record.quotaBytes,
        disabled: record.disabled,
        saveSentCopy: record.saveSentCopy,
        uidOnly: record.uidOnly ?? null,
      });
    }
  }

  /** A \Noselect parent comes back as one: restoring its children created it as a mailbox. */
  private async makePlaceholder(target: User, path: string): Promise<void> {
    const mailbox = await this.store.getMailbox(target.id, path);
    if (!mailbox?.selectable) return;
    const children = (await this.store.listMailboxes(target.id)).some((m) => m.path.startsWith(`${path}/`));
    if (!children || (await this.store.mailboxCounts(mailbox.id)).messages > 0) return;
    await this.store.deleteMailbox(target.id, path);
  }

  private async startMailbox(record: MailboxRecord): Promise<void> {
    const user = this.user!;
    if (!record.selectable) {
      this.placeholders.push(record.path);
      return;
    }
    const existing = await this.store.getMailbox(user.target.id, record.path);
    // Resuming: a mailbox under the backup's UIDVALIDITY is the one this restore was filling.
    const keep =
      !existing ||
      (this.resuming && existing.uidValidity === record.uidValidity) ||
      (await this.canKeepUids(existing, record));
    const entry: RestoredMailbox = {
      user: record.user,
      path: record.path,
      uids: keep ? 'kept' : 'new-uids',
      restored: 0,
      skipped: 0,
    };
    this.report.mailboxes.push(entry);
    if (keep) {
      const target = await this.store.importMailbox(user.target.id, {
        path: record.path,
        specialUse: record.specialUse,
        subscribed: record.subscribed,
        uidValidity: record.uidValidity,
        uidNext: record.uidNext,
        highestModseq: record.highestModseq,
      });
      this.mailbox = { target, entry, bodies: null };
      await this.metadata(user.target, record.path, record.metadata ?? []);
      return;
    }
    await this.metadata(user.target, record.path, record.metadata ?? []);
    const bodies = new Set((await this.store.listMessages(existing.id)).map((m) => m.blobId));
    this.mailbox = { target: existing, entry, bodies };
    const why =
      existing.uidValidity === record.uidValidity
        ? `was used since the backup (UIDs up to ${existing.uidNext - 1} given out, never to be reused)`
        : `already holds other mail (UIDVALIDITY ${existing.uidValidity}, the backup's is ${record.uidValidity})`;
    this.report.notes.push(
      `${record.user} ${record.path}: the mailbox ${why}; restored messages get new UIDs, ` +
        'messages already there are skipped',
    );
  }

  /**
   * The backup's UIDs can go into an existing mailbox only when it is empty and no client can know
   * another message under them: its UIDVALIDITY differs (it changes to the backup's, and clients
   * that saw the empty mailbox resync), or none of its UIDs was ever given out. A UID once shown
   * under a UIDVALIDITY is never reused, nor does a MODSEQ go back.
   */
  private async canKeepUids(existing: Mailbox, record: MailboxRecord): Promise<boolean> {
    if ((await this.store.mailboxCounts(existing.id)).messages > 0) return false;
    return existing.uidValidity !== record.uidValidity || existing.uidNext === 1;
  }

  /**
   * A UID already there with another body (mail delivered while the restore runs, into a mailbox
   * that was empty): the message is added under a new UID, not lost.
   */
  private async sameUidOtherBody(
    mailbox: { target: Mailbox; entry: RestoredMailbox },
    record: MessageRecord,
    body: Buffer,
  ): Promise<boolean> {
    const present = await this.store.getMessage(mailbox.target.id, record.uid);
    if (!present || present.blobId === record.sha256) return false;
    const added = await this.store.append(mailbox.target.id, body, {
      flags: record.flags,
      internalDate: new Date(record.internalDate),
    });
    this.report.notes.push(
      `${mailbox.entry.user} ${mailbox.entry.path}: UID ${record.uid} holds other mail here; restored as UID ${added.uid}`,
    );
    return true;
  }

  /** Queued mail goes back into the queue with a whole-server restore only (attempts start again). */
  async outbound(record: OutboundRecord, raw: Buffer): Promise<void> {
    await this.flush();
    if (!this.whole) return;
    const user = record.user === null ? null : await this.store.getUserByUsername(record.user);
    const recipients: Record<string, Partial<RecipientDsn>> = {};
    for (const r of record.recipients) {
      recipients[r.address] = { notify: r.notify as DsnNotify[] | null, orcpt: r.orcpt };
    }
    await this.store.enqueueOutbound({
      userId: user?.id ?? null,
      sender: record.sender,
      recipients: record.recipients.map((r) => r.address),
      raw,
      dsn: { ...record.dsn, recipients },
    });
    this.report.outbound++;
  }

  async message(record: MessageRecord, body: Buffer, position: number): Promise<void> {
    const mailbox = this.mailbox;
    if (!mailbox) return;
    if (mailbox.bodies === null) {
      // Under their own UIDs: gathered, and stored a batch at a time (one durable write each).
      this.batch.push({ record, body });
      this.batchBytes += body.length;
      this.batchEnd = position + 1;
      if (this.batch.length >= BATCH_MESSAGES || this.batchBytes >= BATCH_BYTES) await this.flush();
      return;
    }
    if (mailbox.bodies.has(record.sha256)) {
      this.counted(mailbox.entry, false, body);
      return;
    }
    const internalDate = new Date(record.internalDate);
    await this.store.append(mailbox.target.id, body, { flags: record.flags, internalDate });
    mailbox.bodies.add(record.sha256);
    this.counted(mailbox.entry, true, body);
  }

  private batch: Array<{ record: MessageRecord; body: Buffer }> = [];
  private batchBytes = 0;

  /**
   * Stores the gathered messages of the current mailbox with importMessages. A restore killed
   * half-way loses at most the batch in flight (sqlite: not one of it is stored); run again, the
   * mailbox is no longer empty and the rest comes under new UIDs, skipping the bodies it has: each
   * message once.
   */
  async flush(): Promise<void> {
    const mailbox = this.mailbox;
    const batch = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    if (!mailbox || batch.length === 0) return;
    const results = await this.store.importMessages(
      mailbox.target.id,
      batch.map(({ record, body }) => ({
        message: {
          uid: record.uid,
          modseq: record.modseq,
          flags: record.flags,
          internalDate: new Date(record.internalDate),
          savedAt: record.savedAt ? new Date(record.savedAt) : null,
          threadId: record.threadId ?? null,
        },
        raw: body,
      })),
    );
    for (const [index, { record, body }] of batch.entries()) {
      const restored = results[index] === 'imported' || (await this.sameUidOtherBody(mailbox, record, body));
      this.counted(mailbox.entry, restored, body);
    }
    await this.markDone(this.batchEnd);
  }

  private counted(entry: RestoredMailbox, restored: boolean, body: Buffer): void {
    this.handled.messages++;
    this.handled.bytes += body.length;
    this.onProgress?.({ phase: 'restoring', ...this.handled });
    if (restored) {
      entry.restored++;
      this.report.messages++;
      this.report.bytes += body.length;
    } else {
      entry.skipped++;
    }
  }
}
