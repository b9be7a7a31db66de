/**
 * Copies everything one store holds into another (the embedded store into MongoDB, typically),
 * using the Store contract only, so it works between any two engines.
 *
 * What clients cached stays valid: every mailbox keeps its UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ,
 * every message its UID, MODSEQ, flags, internal date and exact bytes (`importMailbox` and
 * `importMessage`). Users keep their usernames and password hashes; ids may differ between engines.
 *
 * Resumable: every step looks at what the target already has and skips it, so a run that was
 * interrupted (killed, the database gone) is finished by running again. Verified: afterwards each
 * mailbox is compared message by message, down to a SHA-256 of every body, on both sides.
 *
 * Meant for a source that is not changing (the server stopped); mail that arrives meanwhile is
 * reported by the verification, and another run copies it.
 */
import { createHash } from 'node:crypto';
import { isStoreError } from './errors.ts';
import { dayOf, DELIVERY_OUTCOMES } from './history.ts';
import { sameFlags } from './normalize.ts';
import type { Mailbox, MessageSummary, NewConnectionRule, Store, User } from './types.ts';
import { allUsers, DEFAULT_BATCH_BYTES, HISTORY_START, sizedBatches } from './walk.ts';

/** One progress report; `phase` says which step runs. */
export interface MigrationProgress {
  phase: 'users' | 'rules' | 'messages' | 'verify' | 'done';
  /** The user (username) and mailbox being worked on, when there is one. */
  user: string | null;
  mailbox: string | null;
  usersDone: number;
  usersTotal: number;
  /** Messages handled so far (copied or found already there), and in all. */
  messagesDone: number;
  messagesTotal: number;
  messagesCopied: number;
  bytesCopied: number;
}

export interface MigrateOptions {
  onProgress?: (progress: MigrationProgress) => void;
  /** Checked between batches: an aborted migration stops cleanly and can be resumed. */
  signal?: AbortSignal;
  /** Compare both stores afterwards (default true). */
  verify?: boolean;
  /** Most bytes of bodies read from the source at once (default 8 MiB). */
  batchBytes?: number;
}

/** The comparison of one mailbox in both stores. */
export interface MailboxVerification {
  user: string;
  path: string;
  messages: number;
  ok: boolean;
  problems: string[];
}

export interface MigrationReport {
  users: number;
  mailboxes: number;
  messagesTotal: number;
  messagesCopied: number;
  /** Already in the target (a resumed migration). */
  messagesSkipped: number;
  bytesCopied: number;
  /** 'copied', or 'kept' when the target already had rules of its own. */
  rules: 'copied' | 'kept' | 'none';
  /** Things copied in a form that differs from the source, worth a line in the summary. */
  notes: string[];
  /** Null when verification was not asked for. */
  verification: MailboxVerification[] | null;
  /** Problems found by verification (users, addresses, app passwords, mailboxes); empty when equal. */
  mismatches: string[];
  ms: number;
}

export class MigrationAborted extends Error {
  constructor() {
    super('the migration was interrupted; run it again to resume');
    this.name = 'MigrationAborted';
  }
}

export async function migrateStore(
  source: Store,
  target: Store,
  options: MigrateOptions = {},
): Promise<MigrationReport> {
  const started = Date.now();
  const migration = new Migration(source, target, options);
  const users = await allUsers(source);
  migration.progress.usersTotal = users.length;
  for (const user of users) {
    migration.progress.messagesTotal += await countMessages(source, user);
  }
  const rules = await migration.copyRules();
  await migration.copyDomains();
  await migration.copyHistory();
  for (const user of users) await migration.copyUser(user);
  migration.emit('done', null, null);
  const verification = options.verify === false ? null : await verifyMigration(source, target, options);
  const progress = migration.progress;
  return {
    users: users.length,
    mailboxes: migration.mailboxes,
    messagesTotal: progress.messagesTotal,
    messagesCopied: progress.messagesCopied,
    messagesSkipped: progress.messagesDone - progress.messagesCopied,
    bytesCopied: progress.bytesCopied,
    rules,
    notes: migration.notes,
    verification: verification?.mailboxes ?? null,
    mismatches: verification?.mismatches ?? [],
    ms: Date.now() - started,
  };
}

async function countMessages(store: Store, user: User): Promise<number> {
  let count = 0;
  for (const mailbox of await store.listMailboxes(user.id)) {
    count += (await store.mailboxCounts(mailbox.id)).messages;
  }
  return count;
}

/** Parents before children, so each parent is imported with its own UIDVALIDITY. */
function byPath(a: Mailbox, b: Mailbox): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function ruleKey(rule: NewConnectionRule): string {
  return JSON.stringify([
    rule.kind,
    rule.cidrs ?? [],
    rule.limit ?? null,
    rule.windowSeconds ?? null,
    rule.protocols ?? [],
    rule.enabled ?? true,
    rule.note ?? '',
  ]);
}

function sha256(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

class Migration {
  readonly progress: MigrationProgress = {
    phase: 'users',
    user: null,
    mailbox: null,
    usersDone: 0,
    usersTotal: 0,
    messagesDone: 0,
    messagesTotal: 0,
    messagesCopied: 0,
    bytesCopied: 0,
  };
  readonly notes: string[] = [];
  mailboxes = 0;

  constructor(
    private readonly source: Store,
    private readonly target: Store,
    private readonly options: MigrateOptions,
  ) {}

  emit(phase: MigrationProgress['phase'], user: string | null, mailbox: string | null): void {
    Object.assign(this.progress, { phase, user, mailbox });
    this.options.onProgress?.({ ...this.progress });
  }

  private checkAborted(): void {
    if (this.options.signal?.aborted) throw new MigrationAborted();
  }

  /** Rules go over only into a target that never had any (seedRules is all or nothing). */
  async copyRules(): Promise<MigrationReport['rules']> {
    this.emit('rules', null, null);
    const rules = await this.source.listRules();
    if (rules.length === 0) return 'none';
    const fresh: NewConnectionRule[] = rules.map((rule) => ({
      kind: rule.kind,
      cidrs: rule.cidrs,
      limit: rule.limit,
      windowSeconds: rule.windowSeconds,
      protocols: rule.protocols,
      enabled: rule.enabled,
      note: rule.note,
    }));
    if (await this.target.seedRules(fresh)) return 'copied';
    // Copied by an earlier, interrupted run?
    const present = (await this.target.listRules()).map(ruleKey);
    if (present.length === fresh.length && fresh.every((rule, index) => ruleKey(rule) === present[index])) {
      return 'copied';
    }
    this.notes.push('connection rules: the target already had rules of its own, they were kept');
    return 'kept';
  }

  /** Domains with their DKIM switch (a catch-all comes with its user's addresses). */
  async copyDomains(): Promise<void> {
    for (const domain of await this.source.listDomains()) {
      const existing =
        (await this.target.getDomain(domain.name)) ?? (await this.target.createDomain({ name: domain.name }));
      if (existing.dkim !== domain.dkim) await this.target.updateDomain(domain.name, { dkim: domain.dkim });
    }
  }

  /**
   * The delivery history (the dashboard's graph), only into a target that has none: counters add
   * up, so a resumed migration must not count a day twice.
   */
  async copyHistory(): Promise<void> {
    const last = dayOf(new Date());
    const days = await this.source.deliveryHistory(HISTORY_START, last);
    if (days.length === 0) return;
    if ((await this.target.deliveryHistory(HISTORY_START, last)).length > 0) {
      this.notes.push('delivery history: the target already had a history of its own, it was kept');
      return;
    }
    for (const day of days) {
      for (const outcome of DELIVERY_OUTCOMES) {
        if (day[outcome] > 0) await this.target.countDelivery(day.day, outcome, day[outcome]);
      }
    }
  }

  async copyUser(user: User): Promise<void> {
    this.checkAborted();
    this.emit('users', user.username, null);
    const credentials = await this.source.getCredentials(user.username);
    if (!credentials) return; // deleted since the listing
    // No quota while copying: the source held these messages, whatever the quota says now.
    let copy = await this.target.getUserByUsername(user.username);
    if (!copy) {
      copy = await this.target.createUser({
        username: user.username,
        passwordHash: credentials.passwordHash,
        name: user.name,
      });
    } else {
      await this.target.setPasswordHash(copy.id, credentials.passwordHash);
      await this.target.updateUser(copy.id, { quotaBytes: 0 });
    }
    await this.copyAddresses(user, copy);
    await this.copyAppPasswords(user, copy, credentials.appPasswords);
    await this.copySpamLists(user, copy);
    await this.copySieveScripts(user, copy);
    await this.copyMailboxes(user, copy);
    await this.copyMetadata(user, copy, '');
    await this.target.updateUser(copy.id, {
      name: user.name,
      quotaBytes: user.quotaBytes,
      disabled: user.disabled,
      saveSentCopy: user.saveSentCopy,
      uidOnly: user.uidOnly,
    });
    await this.copySubscriptions(user, copy);
    this.progress.usersDone++;
    this.emit('users', user.username, null);
  }

  private async copyAddresses(user: User, copy: User): Promise<void> {
    const present = new Set((await this.target.listAddresses(copy.id)).map((a) => a.address));
    for (const address of await this.source.listAddresses(user.id)) {
      if (address.kind === 'primary' || present.has(address.address)) continue;
      try {
        await this.target.addAddress(copy.id, address.address);
      } catch (error) {
        if (!isStoreError(error, 'ALREADYEXISTS')) throw error;
        this.notes.push(`${user.username}: address ${address.address} belongs to another user in the target`);
      }
    }
  }

  /** App passwords are matched by hash: labels need not be unique. */
  private async copyAppPasswords(
    user: User,
    copy: User,
    hashes: Array<{ id: string; hash: string }>,
  ): Promise<void> {
    if (hashes.length === 0) return;
    const present = new Set(
      (await this.target.getCredentials(copy.username))?.appPasswords.map((p) => p.hash),
    );
    const labels = new Map((await this.source.listAppPasswords(user.id)).map((p) => [p.id, p.label]));
    for (const { id, hash } of hashes) {
      if (present.has(hash)) continue;
      await this.target.createAppPassword(copy.id, labels.get(id) ?? '', hash);
    }
  }

  /** Subscribed names without a mailbox too (a client's list, RFC 3501 6.3.6). */
  private async copySubscriptions(user: User, copy: User): Promise<void> {
    const present = new Set(await this.target.listSubscriptions(copy.id));
    for (const path of await this.source.listSubscriptions(user.id)) {
      if (!present.has(path)) await this.target.setSubscribed(copy.id, path, true);
    }
  }

  /** Allowed and blocked senders: setting an entry again changes nothing (a resumed migration). */
  private async copySpamLists(user: User, copy: User): Promise<void> {
    for (const entry of await this.source.listSpamEntries(user.id)) {
      await this.target.setSpamEntry(copy.id, entry.list, entry.pattern);
    }
  }

  /** Sieve scripts and which one is active: putting a script again changes nothing (a resumed migration). */
  private async copySieveScripts(user: User, copy: User): Promise<void> {
    for (const script of await this.source.listSieveScripts(user.id)) {
      await this.target.putSieveScript(copy.id, script.name, script.content);
      if (script.active) await this.target.activateSieveScript(copy.id, script.name);
    }
  }

  private async copyMailboxes(user: User, copy: User): Promise<void> {
    const mailboxes = (await this.source.listMailboxes(user.id)).sort(byPath);
    for (const mailbox of mailboxes) {
      if (!mailbox.selectable) continue;
      this.checkAborted();
      const imported = await this.target.importMailbox(copy.id, {
        path: mailbox.path,
        specialUse: mailbox.specialUse,
        subscribed: mailbox.subscribed,
        uidValidity: mailbox.uidValidity,
        uidNext: mailbox.uidNext,
        highestModseq: mailbox.highestModseq,
      });
      this.mailboxes++;
      await this.copyMetadata(user, copy, mailbox.path);
      await this.copyMessages(user, mailbox, imported);
    }
    for (const placeholder of mailboxes.filter((m) => !m.selectable)) {
      await this.copyPlaceholder(user, copy, placeholder, mailboxes);
    }
  }

  /**
   * METADATA entries (RFC 5464) of a mailbox, or the server's for path "". Setting an entry again
   * changes nothing (a resumed migration); no entry limit, since the source held them all.
   */
  private async copyMetadata(user: User, copy: User, path: string): Promise<void> {
    const entries = await this.source.getMetadata(user.id, path);
    if (entries.length === 0) return;
    await this.target.setMetadata(copy.id, path, entries, Number.MAX_SAFE_INTEGER);
  }

  /**
   * A \Noselect placeholder has no UIDVALIDITY worth keeping: importing its children made it an
   * ordinary mailbox, and deleting that (empty, with children) turns it back into a placeholder.
   */
  private async copyPlaceholder(user: User, copy: User, placeholder: Mailbox, all: Mailbox[]): Promise<void> {
    const hasChildren = all.some((m) => m.path.startsWith(`${placeholder.path}/`));
    const existing = await this.target.getMailbox(copy.id, placeholder.path);
    if (!hasChildren || !existing) {
      this.notes.push(`${user.username}: empty \\Noselect mailbox ${placeholder.path} was not copied`);
      return;
    }
    if (!existing.selectable) return;
    if ((await this.target.mailboxCounts(existing.id)).messages > 0) return;
    await this.target.deleteMailbox(copy.id, placeholder.path);
  }

  private async copyMessages(user: User, mailbox: Mailbox, imported: Mailbox): Promise<void> {
    this.emit('messages', user.username, mailbox.path);
    const present = new Set((await this.target.listMessages(imported.id)).map((m) => m.uid));
    const pending: MessageSummary[] = [];
    for (const summary of await this.source.listMessages(mailbox.id)) {
      if (present.has(summary.uid)) this.progress.messagesDone++;
      else pending.push(summary);
    }
    const batchBytes = this.options.batchBytes ?? DEFAULT_BATCH_BYTES;
    for (const batch of sizedBatches(pending, batchBytes, (m) => m.size)) {
      this.checkAborted();
      await this.copyBatch(mailbox, imported, batch);
      this.emit('messages', user.username, mailbox.path);
    }
  }

  private async copyBatch(mailbox: Mailbox, imported: Mailbox, batch: MessageSummary[]): Promise<void> {
    const bodies = await this.source.readBlobs(batch.map((m) => m.blobId));
    for (const summary of batch) {
      const raw = bodies.get(summary.blobId);
      if (!raw) {
        // Expunged since the listing: nothing to copy, nothing to verify.
        this.progress.messagesDone++;
        continue;
      }
      const result = await this.target.importMessage(
        imported.id,
        {
          uid: summary.uid,
          modseq: summary.modseq,
          flags: summary.flags,
          internalDate: summary.internalDate,
          savedAt: summary.savedAt,
          threadId: summary.threadId,
        },
        raw,
      );
      this.progress.messagesDone++;
      if (result === 'imported') {
        this.progress.messagesCopied++;
        this.progress.bytesCopied += raw.length;
      } else {
        this.notes.push(`${mailbox.path} UID ${summary.uid}: appeared in the target meanwhile`);
      }
    }
  }
}

// --- verification ---

export interface VerificationResult {
  mailboxes: MailboxVerification[];
  mismatches: string[];
}

/**
 * Compares every user, address, app password and selectable mailbox of `source` with `target`:
 * per mailbox the UIDVALIDITY, the message count, the UID list, each message's flags, MODSEQ,
 * internal date and a SHA-256 of its body as read back from each store.
 */
export async function verifyMigration(
  source: Store,
  target: Store,
  options: Pick<MigrateOptions, 'onProgress' | 'signal' | 'batchBytes'> = {},
): Promise<VerificationResult> {
  const mailboxes: MailboxVerification[] = [];
  const mismatches: string[] = [];
  const users = await allUsers(source);
  let usersDone = 0;
  let messagesDone = 0;
  const report = (user: string | null, mailbox: string | null) =>
    options.onProgress?.({
      phase: 'verify',
      user,
      mailbox,
      usersDone,
      usersTotal: users.length,
      messagesDone,
      messagesTotal: 0,
      messagesCopied: 0,
      bytesCopied: 0,
    });
  for (const user of users) {
    if (options.signal?.aborted) throw new MigrationAborted();
    report(user.username, null);
    const copy = await target.getUserByUsername(user.username);
    if (!copy) {
      mismatches.push(`${user.username}: missing in the target`);
      continue;
    }
    mismatches.push(...(await compareAccount(source, target, user, copy)));
    for (const mailbox of (await source.listMailboxes(user.id)).sort(byPath)) {
      if (!mailbox.selectable) continue;
      report(user.username, mailbox.path);
      const result = await compareMailbox(source, target, user, copy, mailbox, options.batchBytes);
      messagesDone += result.messages;
      mailboxes.push(result);
      for (const problem of result.problems) mismatches.push(`${user.username} ${mailbox.path}: ${problem}`);
    }
    usersDone++;
  }
  report(null, null);
  return { mailboxes, mismatches };
}

async function compareAccount(source: Store, target: Store, user: User, copy: User): Promise<string[]> {
  const problems: string[] = [];
  const [from, to] = [await source.getCredentials(user.username), await target.getCredentials(copy.username)];
  if (from && to && from.passwordHash !== to.passwordHash)
    problems.push(`${user.username}: password hash differs`);
  if (copy.quotaBytes !== user.quotaBytes || copy.disabled !== user.disabled || copy.name !== user.name) {
    problems.push(`${user.username}: name, quota or status differs`);
  }
  const addresses = async (store: Store, id: string) =>
    (await store.listAddresses(id)).map((a) => `${a.address} ${a.kind}`).sort();
  const [want, have] = [await addresses(source, user.id), await addresses(target, copy.id)];
  const missing = want.filter((a) => !have.includes(a));
  if (missing.length > 0) problems.push(`${user.username}: addresses missing: ${missing.join(', ')}`);
  const hashes = new Set(to?.appPasswords.map((p) => p.hash));
  const lost = (from?.appPasswords ?? []).filter((p) => !hashes.has(p.hash)).length;
  if (lost > 0) problems.push(`${user.username}: ${lost} app password(s) missing`);
  return problems;
}

async function compareMailbox(
  source: Store,
  target: Store,
  user: User,
  copy: User,
  mailbox: Mailbox,
  batchBytes = DEFAULT_BATCH_BYTES,
): Promise<MailboxVerification> {
  const result: MailboxVerification = {
    user: user.username,
    path: mailbox.path,
    messages: 0,
    ok: false,
    problems: [],
  };
  const problems = result.problems;
  const other = await target.getMailbox(copy.id, mailbox.path);
  if (!other) {
    problems.push('missing in the target');
    return result;
  }
  if (other.uidValidity !== mailbox.uidValidity) {
    problems.push(`UIDVALIDITY ${other.uidValidity}, expected ${mailbox.uidValidity}`);
  }
  if (other.uidNext < mailbox.uidNext) problems.push(`UIDNEXT ${other.uidNext} below ${mailbox.uidNext}`);
  if (other.highestModseq < mailbox.highestModseq) {
    problems.push(`HIGHESTMODSEQ ${other.highestModseq} below ${mailbox.highestModseq}`);
  }
  const [want, have] = [await source.listMessages(mailbox.id), await target.listMessages(other.id)];
  result.messages = want.length;
  if (want.length !== have.length) problems.push(`${have.length} messages, expected ${want.length}`);
  const haveByUid = new Map(have.map((m) => [m.uid, m]));
  const wantUids = new Set(want.map((m) => m.uid));
  const missing = want.filter((m) => !haveByUid.has(m.uid)).map((m) => m.uid);
  const extra = have.filter((m) => !wantUids.has(m.uid)).map((m) => m.uid);
  if (missing.length > 0) problems.push(`UIDs missing: ${uidList(missing)}`);
  if (extra.length > 0) problems.push(`UIDs not in the source: ${uidList(extra)}`);
  const pairs: Array<[MessageSummary, MessageSummary]> = [];
  for (const message of want) {
    const copied = haveByUid.get(message.uid);
    if (!copied) continue;
    pairs.push([message, copied]);
    if (!sameFlags(message.flags, copied.flags)) {
      problems.push(`UID ${message.uid}: flags ${fmt(copied.flags)}, expected ${fmt(message.flags)}`);
    }
    if (message.modseq !== copied.modseq) {
      problems.push(`UID ${message.uid}: MODSEQ ${copied.modseq}, expected ${message.modseq}`);
    }
    if (message.internalDate.getTime() !== copied.internalDate.getTime()) {
      problems.push(`UID ${message.uid}: internal date differs`);
    }
  }
  await compareBodies(source, target, pairs, batchBytes, problems);
  result.ok = problems.length === 0;
  return result;
}

/** Reads each body from both stores, in bounded batches, and compares SHA-256 digests. */
async function compareBodies(
  source: Store,
  target: Store,
  pairs: Array<[MessageSummary, MessageSummary]>,
  batchBytes: number,
  problems: string[],
): Promise<void> {
  for (const batch of sizedBatches(pairs, batchBytes, ([m]) => m.size)) {
    const wantBodies = await source.readBlobs(batch.map(([m]) => m.blobId));
    const haveBodies = await target.readBlobs(batch.map(([, m]) => m.blobId));
    for (const [want, have] of batch) {
      const a = wantBodies.get(want.blobId);
      const b = haveBodies.get(have.blobId);
      if (!b) problems.push(`UID ${want.uid}: body missing in the target`);
      else if (!a) problems.push(`UID ${want.uid}: body gone from the source`);
      else if (sha256(a) !== sha256(b)) problems.push(`UID ${want.uid}: body differs (SHA-256)`);
    }
  }
}

function fmt(flags: readonly string[]): string {
  return `(${flags.join(' ')})`;
}

/** "1, 2, 5…" with the first few only: a lost mailbox must not make a report of megabytes. */
function uidList(uids: number[]): string {
  const shown = uids.slice(0, 10).join(', ');
  return uids.length > 10 ? `${shown} and ${uids.length - 10} more` : shown;
}
