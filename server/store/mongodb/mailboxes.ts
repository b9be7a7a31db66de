/**
 * Mailboxes on MongoDB: the hierarchy, UIDVALIDITY, subscriptions and the \Recent mark, with the
 * same semantics as the sqlite engine (server/store/sqlite/mailboxes.ts).
 *
 * Without transactions, a mailbox goes in steps that are each safe to repeat: it is first made
 * unselectable (no UID can be allocated in it from then on), then its messages are swept, then its
 * document is deleted. Appends that allocated a UID just before look at the mailbox again after
 * inserting and take their message back (see messages.ts). A crash in between leaves a \Noselect
 * placeholder, which deleting again completes.
 */
import { StoreError } from '../errors.ts';
import { recentPlan } from '../recent-count.ts';
import {
  isInbox,
  isSameOrDescendant,
  normalizeMailboxPath,
  parentPaths,
  tryNormalizeMailboxPath,
  validateSpecialUse,
} from '../normalize.ts';
import {
  MAILBOX_DELIMITER,
  type Mailbox,
  type MailboxCounts,
  type MailboxStatus,
  type SpecialUse,
} from '../types.ts';
import { nextIds } from './counters.ts';
import { requireMailbox, requireUser, toMailbox } from './docs.ts';
import { writeJournal } from './journal.ts';
import { removeAllMessages, transferMessages } from './messages.ts';
import { isDuplicateKey, type Collections, type MailboxDoc } from './schema.ts';

/**
 * A fresh UIDVALIDITY for one of the user's mailboxes: the current time in seconds, but always
 * above the last one handed out (two atomic updates: raise to now-1, then take the increment).
 */
export async function allocateUidValidity(c: Collections, userId: number): Promise<number> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  await c.users.updateOne({ _id: userId }, { $max: { lastUidValidity: nowSeconds - 1 } });
  const before = await c.users.findOneAndUpdate(
    { _id: userId },
    { $inc: { lastUidValidity: 1 } },
    { returnDocument: 'before', projection: { lastUidValidity: 1 } },
  );
  if (!before) throw new StoreError('NONEXISTENT', `no such user ${userId}`);
  return before.lastUidValidity + 1;
}

export function newMailboxDoc(
  id: number,
  userId: number,
  path: string,
  specialUse: SpecialUse | null,
  uidValidity: number,
  subscribed: boolean,
): MailboxDoc {
  return {
    _id: id,
    user: userId,
    path,
    specialUse,
    subscribed,
    selectable: true,
    uidValidity,
    uidNext: 1,
    highestModseq: 1,
    recentMark: 0,
    expungedFloor: 0,
    messageCount: 0,
    unseenCount: 0,
    byteCount: 0,
    deletedCount: 0,
  };
}

/**
 * Inserts a new mailbox and journals it; E11000 when the path is taken (the caller decides).
 * `subscriptions` is the user's list as the caller read it (once for every mailbox it creates).
 */
export async function insertMailbox(
  c: Collections,
  userId: number,
  path: string,
  specialUse: SpecialUse | null,
  subscriptions: readonly string[],
): Promise<MailboxDoc> {
  const id = await nextIds(c, 'mailboxes');
  const subscribed = subscriptions.includes(path);
  const doc = newMailboxDoc(id, userId, path, specialUse, await allocateUidValidity(c, userId), subscribed);
  await c.mailboxes.insertOne(doc);
  await writeJournal(c, userId, [{ userId, mailboxId: id, kind: 'mailbox-create', path }]);
  return doc;
}

export function mailboxByPath(c: Collections, userId: number, path: string): Promise<MailboxDoc | null> {
  return c.mailboxes.findOne({ user: userId, path });
}

/** Creates the missing ancestors of `path` as ordinary mailboxes (one created meanwhile is fine). */
export async function ensureParents(
  c: Collections,
  userId: number,
  path: string,
  subscriptions: readonly string[],
): Promise<void> {
  for (const parent of parentPaths(path)) {
    if (await mailboxByPath(c, userId, parent)) continue;
    try {
      await insertMailbox(c, userId, parent, null, subscriptions);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }
}

function descendants(c: Collections, userId: number, path: string): Promise<MailboxDoc[]> {
  // Every path below "path/" sorts between "path/" and "path0" ("0" follows "/").
  return c.mailboxes
    .find({ user: userId, path: { $gt: path + MAILBOX_DELIMITER, $lt: path + '0' } })
    .sort({ path: 1 })
    .toArray();
}

async function requireMailboxByPath(c: Collections, userId: number, path: string): Promise<MailboxDoc> {
  const doc = await mailboxByPath(c, userId, path);
  if (!doc) throw new StoreError('NONEXISTENT', `no such mailbox ${path}`);
  return doc;
}

// --- reading ---

/** INBOX first, then by path. */
export async function listMailboxes(c: Collections, userId: number): Promise<Mailbox[]> {
  const docs = await c.mailboxes.find({ user: userId }).sort({ path: 1 }).toArray();
  const inbox = docs.filter((doc) => doc.path === 'INBOX');
  return [...inbox, ...docs.filter((doc) => doc.path !== 'INBOX')].map(toMailbox);
}

export async function getMailbox(c: Collections, userId: number, path: string): Promise<Mailbox | null> {
  const normalized = tryNormalizeMailboxPath(path);
  if (normalized === null) return null;
  const doc = await mailboxByPath(c, userId, normalized);
  return doc ? toMailbox(doc) : null;
}

export async function mailboxCounts(c: Collections, mailboxId: number): Promise<MailboxCounts> {
  return countsOf(c, await requireMailbox(c, mailboxId));
}

export async function mailboxStatus(
  c: Collections,
  userId: number,
  path: string,
): Promise<MailboxStatus | null> {
  const normalized = tryNormalizeMailboxPath(path);
  if (normalized === null) return null;
  const doc = await mailboxByPath(c, userId, normalized);
  return doc ? { mailbox: toMailbox(doc), counts: await countsOf(c, doc) } : null;
}

async function countsOf(c: Collections, mailbox: MailboxDoc): Promise<MailboxCounts> {
  const mailboxId = mailbox._id;
  if (mailbox.messageCount !== undefined) {
    // The counters, and \Recent counted through {mailbox, uid} on the side of the mark with fewer
    // UIDs (recent-count.ts).
    const plan = recentPlan(mailbox.recentMark, mailbox.uidNext, Math.max(0, mailbox.messageCount));
    const uids = plan.countAbove ? { $gt: mailbox.recentMark } : { $lte: mailbox.recentMark };
    const [recent, deleted] = await Promise.all([
      c.messages.countDocuments({ mailbox: mailboxId, uid: uids }).then(plan.recentOf),
      mailbox.deletedCount ?? c.messages.countDocuments({ mailbox: mailboxId, deleted: true }),
    ]);
    return {
      messages: Math.max(0, mailbox.messageCount),
      unseen: Math.max(0, mailbox.unseenCount ?? 0),
      recent,
      bytes: Math.max(0, mailbox.byteCount ?? 0),
      deleted: Math.max(0, deleted),
    };
  }
  const [totals] = await c.messages
    .aggregate<MailboxCounts>([
      { $match: { mailbox: mailboxId } },
      {
        $group: {
          _id: null,
          messages: { $sum: 1 },
          unseen: { $sum: { $cond: ['$seen', 0, 1] } },
          recent: { $sum: { $cond: [{ $gt: ['$uid', mailbox.recentMark] }, 1, 0] } },
          bytes: { $sum: '$size' },
          deleted: { $sum: { $cond: ['$deleted', 1, 0] } },
        },
      },
    ])
    .toArray();
  return {
    messages: totals?.messages ?? 0,
    unseen: totals?.unseen ?? 0,
    recent: totals?.recent ?? 0,
    bytes: totals?.bytes ?? 0,
    deleted: totals?.deleted ?? 0,
  };
}

// --- changes ---

export async function createMailbox(
  c: Collections,
  userId: number,
  path: string,
  specialUse: SpecialUse | null | undefined,
): Promise<Mailbox> {
  const normalized = normalizeMailboxPath(path);
  const use = validateSpecialUse(specialUse);
  // Read once for the mailbox and every parent created with it; also says whether the user exists.
  const subscriptions = await subscriptionsOf(c, userId);
  if (!subscriptions) throw new StoreError('NONEXISTENT', `no such user ${userId}`);
  const existing = await mailboxByPath(c, userId, normalized);
  if (existing?.selectable) throw new StoreError('ALREADYEXISTS', `mailbox ${normalized} exists`);
  await ensureParents(c, userId, normalized, subscriptions);
  if (existing) return toMailbox(await revivePlaceholder(c, existing, use));
  try {
    return toMailbox(await insertMailbox(c, userId, normalized, use, subscriptions));
  } catch (error) {
    if (isDuplicateKey(error)) throw new StoreError('ALREADYEXISTS', `mailbox ${normalized} exists`);
    throw error;
  }
}

/** Makes a \Noselect placeholder selectable again, with a new UIDVALIDITY (it is a new mailbox). */
async function revivePlaceholder(
  c: Collections,
  placeholder: MailboxDoc,
  specialUse: SpecialUse | null,
): Promise<MailboxDoc> {
  const uidValidity = await allocateUidValidity(c, placeholder.user);
  const update = { selectable: true, uidValidity, specialUse: specialUse ?? placeholder.specialUse };
  const before = await c.mailboxes.findOneAndUpdate(
    { _id: placeholder._id, selectable: false },
    { $set: update },
    { returnDocument: 'before' },
  );
  if (!before) throw new StoreError('ALREADYEXISTS', `mailbox ${placeholder.path} exists`);
  await writeJournal(c, before.user, [
    { userId: before.user, mailboxId: before._id, kind: 'mailbox-create', path: before.path },
  ]);
  return { ...before, ...update };
}

/**
 * Empties a mailbox and, unless it stays as a \Noselect placeholder, deletes it. Safe to repeat
 * after a crash; see the comment at the top.
 */
export async function dropMailbox(
  c: Collections,
  mailbox: MailboxDoc,
  keepPlaceholder: boolean,
): Promise<void> {
  const before = await c.mailboxes.findOneAndUpdate(
    { _id: mailbox._id },
    // A deleted mailbox's METADATA goes with it, also when it stays as a \Noselect placeholder.
    // So does its URLAUTH key: no old URL works on a revived placeholder.
    { $set: { selectable: false }, $unset: { metadata: '', metadataVersion: '', urlAuthKey: '' } },
    { returnDocument: 'before' },
  );
  if (!before) return;
  // UIDs from uidNext on belong to a revived mailbox, should the placeholder be revived meanwhile.
  await removeAllMessages(c, before, before.uidNext);
  if (!keepPlaceholder) {
    await c.mailboxes.deleteOne({ _id: before._id, selectable: false, uidValidity: before.uidValidity });
  }
}

export async function deleteMailbox(c: Collections, userId: number, path: string): Promise<void> {
  const normalized = normalizeMailboxPath(path);
  if (isInbox(normalized)) throw new StoreError('CANNOT', 'INBOX cannot be deleted');
  const mailbox = await requireMailboxByPath(c, userId, normalized);
  const hasChildren = (await descendants(c, userId, normalized)).length > 0;
  if (hasChildren && !mailbox.selectable) {
    throw new StoreError('CANNOT', `mailbox ${normalized} has children and is not selectable`);
  }
  await dropMailbox(c, mailbox, hasChildren);
  await writeJournal(c, userId, [
    { userId, mailboxId: mailbox._id, kind: 'mailbox-delete', path: normalized },
  ]);
}

/**
 * Renames a mailbox with its children (ids and UIDVALIDITY kept). INBOX is special: its messages
 * move to a new mailbox and INBOX stays, empty, with its children in place (RFC 3501).
 */
export async function renameMailbox(
  c: Collections,
  userId: number,
  fromPath: string,
  toPath: string,
): Promise<void> {
  const from = normalizeMailboxPath(fromPath);
  const to = normalizeMailboxPath(toPath);
  await requireUser(c, userId);
  const source = await requireMailboxByPath(c, userId, from);
  if (await mailboxByPath(c, userId, to)) throw new StoreError('ALREADYEXISTS', `mailbox ${to} exists`);
  if (isInbox(from)) {
    await renameInbox(c, source, to);
    return;
  }
  if (isSameOrDescendant(to, from)) {
    throw new StoreError('CANNOT', `cannot rename ${from} into its own child ${to}`);
  }
  const subscriptions = await listSubscriptions(c, userId);
  await ensureParents(c, userId, to, subscriptions);
  for (const mailbox of [source, ...(await descendants(c, userId, from))]) {
    const newPath = to + mailbox.path.slice(from.length);
    const subscribed = subscriptions.includes(newPath);
    try {
      await c.mailboxes.updateOne(
        { _id: mailbox._id, path: mailbox.path },
        { $set: { path: newPath, subscribed } },
      );
    } catch (error) {
      if (isDuplicateKey(error)) throw new StoreError('ALREADYEXISTS', `mailbox ${newPath} exists`);
      throw error;
    }
    await writeJournal(c, userId, [
      { userId, mailboxId: mailbox._id, kind: 'mailbox-rename', path: newPath, oldPath: mailbox.path },
    ]);
  }
}

async function renameInbox(c: Collections, inbox: MailboxDoc, to: string): Promise<void> {
  const subscriptions = await listSubscriptions(c, inbox.user);
  await ensureParents(c, inbox.user, to, subscriptions);
  let target: MailboxDoc;
  try {
    target = await insertMailbox(c, inbox.user, to, null, subscriptions);
  } catch (error) {
    if (isDuplicateKey(error)) throw new StoreError('ALREADYEXISTS', `mailbox ${to} exists`);
    throw error;
  }
  const messages = await c.messages
    .find({ mailbox: inbox._id }, { projection: { _id: 0 } })
    .sort({ uid: 1 })
    .toArray();
  await transferMessages(c, inbox, target, messages, true);
}

/**
 * The subscription list. A user from before the list existed gets it once from its mailboxes'
 * flags (a conditional write, so concurrent first uses agree).
 */
export async function listSubscriptions(c: Collections, userId: number): Promise<string[]> {
  return (await subscriptionsOf(c, userId)) ?? [];
}

/** The subscription list, sorted; null for an unknown user. */
async function subscriptionsOf(c: Collections, userId: number): Promise<string[] | null> {
  for (let round = 0; round < 2; round++) {
    const user = await c.users.findOne({ _id: userId }, { projection: { subscriptions: 1 } });
    if (!user) return null;
    if (user.subscriptions) return [...user.subscriptions].sort();
    const flagged = await c.mailboxes
      .find({ user: userId, subscribed: true }, { projection: { path: 1 } })
      .toArray();
    await c.users.updateOne(
      { _id: userId, subscriptions: { $exists: false } },
      { $set: { subscriptions: flagged.map((doc) => doc.path) } },
    );
  }
  throw new StoreError('UNAVAILABLE', `subscriptions of user ${userId} could not be read`);
}

/**
 * Puts a name on the list or takes it off; an existing mailbox's flag follows. A change is
 * journaled after it is made (NOTIFY's SubscriptionChange in every process).
 */
export async function setSubscribed(
  c: Collections,
  userId: number,
  path: string,
  subscribed: boolean,
): Promise<void> {
  const normalized = normalizeMailboxPath(path);
  await requireUser(c, userId);
  await listSubscriptions(c, userId);
  const result = await c.users.updateOne(
    { _id: userId },
    subscribed ? { $addToSet: { subscriptions: normalized } } : { $pull: { subscriptions: normalized } },
  );
  await c.mailboxes.updateOne({ user: userId, path: normalized }, { $set: { subscribed } });
  if (result.modifiedCount > 0) {
    const kind = subscribed ? 'mailbox-subscribe' : 'mailbox-unsubscribe';
    await writeJournal(c, userId, [{ userId, mailboxId: 0, kind, path: normalized }]);
  }
}

/**
 * Moves the \Recent mark up to UIDNEXT-1 with `$max`, which is atomic: concurrent claims get
 * disjoint ranges (previous, current], so exactly one session sees each message as recent.
 */
export async function claimRecent(
  c: Collections,
  mailboxId: number,
): Promise<{ previous: number; current: number }> {
  const mailbox = await requireMailbox(c, mailboxId);
  const mark = mailbox.uidNext - 1;
  const before = await c.mailboxes.findOneAndUpdate(
    { _id: mailboxId },
    { $max: { recentMark: mark } },
    { returnDocument: 'before', projection: { recentMark: 1 } },
  );
  if (!before) throw new StoreError('NONEXISTENT', `no such mailbox ${mailboxId}`);
  return { previous: before.recentMark, current: Math.max(before.recentMark, mark) };
}
