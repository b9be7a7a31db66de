/**
 * Users, addresses and app passwords on MongoDB, with the semantics of the sqlite engine
 * (server/store/sqlite/accounts.ts).
 *
 * Addresses are documents keyed by the address itself, so taking one is a single insert that the
 * _id index makes atomic. A new user is written in an order that leaves nothing visible half-made:
 * its primary address first (the claim on the name), then its mailboxes, then the user document,
 * which is what makes it exist. A claim left by a writer that died before the last step is taken
 * over after a while (ORPHAN_CLAIM_MS).
 */
import { StoreError } from '../errors.ts';
import {
  normalizeUsername,
  parseAddress,
  recipientCandidates,
  validateName,
  validatePasswordHash,
  validateQuota,
} from '../normalize.ts';
import {
  DEFAULT_MAILBOXES,
  type Address,
  type AddressKind,
  type AppPassword,
  type Credentials,
  type NewUser,
  type User,
  type UserPatch,
  type UserQuery,
} from '../types.ts';
import { nextIds } from './counters.ts';
import { requireUser, toAppPassword, toUser } from './docs.ts';
import { ensureDomainOf } from './domains.ts';
import { writeJournal } from './journal.ts';
import { dropMailbox, newMailboxDoc } from './mailboxes.ts';
import { deleteSieveOf } from './sieve.ts';
import { deleteSpamEntriesOf } from './spam.ts';
import { deleteImportProgressOf } from './import-progress.ts';
import { deleteThreadLinksOf } from './thread-links.ts';
import { isDuplicateKey, type AddressDoc, type Collections, type UserDoc } from './schema.ts';

/** A primary address whose user document is still missing after this long was left by a crash. */
const ORPHAN_CLAIM_MS = 60_000;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Usernames are compared lower-cased, as they are stored. */
function loginKey(username: string): string {
  return typeof username === 'string' ? username.trim().toLowerCase() : '';
}

// --- users ---

/** Inserts the primary address as the claim on a new username; ALREADYEXISTS when taken. */
async function claimUsername(c: Collections, username: string, userId: number): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await c.addresses.insertOne({ _id: username, user: userId, kind: 'primary', createdAt: new Date() });
      return;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const holder = await c.addresses.findOne({ _id: username });
    const orphan =
      holder?.kind === 'primary' &&
      Date.now() - holder.createdAt.getTime() > ORPHAN_CLAIM_MS &&
      (await c.users.findOne({ _id: holder.user }, { projection: { _id: 1 } })) === null;
    if (!orphan) break;
    await c.addresses.deleteOne({ _id: username, user: holder.user });
  }
  throw new StoreError('ALREADYEXISTS', `address ${username} is taken`);
}

export async function createUser(c: Collections, user: NewUser): Promise<User> {
  const username = normalizeUsername(user.username);
  if (username.includes('*')) throw new StoreError('INVALID', 'username must not contain "*"');
  const passwordHash = validatePasswordHash(user.passwordHash);
  const name = validateName(user.name);
  const quotaBytes = validateQuota(user.quotaBytes);
  if (await c.users.findOne({ username }, { projection: { _id: 1 } })) {
    throw new StoreError('ALREADYEXISTS', `user ${username} exists`);
  }
  const id = await nextIds(c, 'users');
  await claimUsername(c, username, id);
  await ensureDomainOf(c, username);
  // Default mailboxes get consecutive UIDVALIDITYs from now; the user document records the last.
  const nowSeconds = Math.floor(Date.now() / 1000);
  const firstMailbox = await nextIds(c, 'mailboxes', DEFAULT_MAILBOXES.length);
  const mailboxes = DEFAULT_MAILBOXES.map((mailbox, i) =>
    newMailboxDoc(firstMailbox + i, id, mailbox.path, mailbox.specialUse, nowSeconds + i, true),
  );
  await c.mailboxes.insertMany(mailboxes, { ordered: true });
  const doc: UserDoc = {
    _id: id,
    username,
    name,
    nameLower: name.toLowerCase(),
    passwordHash,
    disabled: false,
    quotaBytes,
    usedBytes: 0,
    lastUidValidity: nowSeconds + DEFAULT_MAILBOXES.length - 1,
    createdAt: new Date(),
    subscriptions: DEFAULT_MAILBOXES.map((mailbox) => mailbox.path),
  };
  try {
    await c.users.insertOne(doc);
  } catch (error) {
    await c.mailboxes.deleteMany({ user: id });
    await c.addresses.deleteOne({ _id: username, user: id });
    if (isDuplicateKey(error)) throw new StoreError('ALREADYEXISTS', `user ${username} exists`);
    throw error;
  }
  await writeJournal(
    c,
    id,
    mailboxes.map((mailbox) => ({
      userId: id,
      mailboxId: mailbox._id,
      kind: 'mailbox-create',
      path: mailbox.path,
    })),
  );
  return toUser(doc);
}

export async function getUser(c: Collections, userId: number): Promise<User | null> {
  const doc = await c.users.findOne({ _id: userId });
  return doc ? toUser(doc) : null;
}

export async function getUserByUsername(c: Collections, username: string): Promise<User | null> {
  const doc = await c.users.findOne({ username: loginKey(username) });
  return doc ? toUser(doc) : null;
}

export async function listUsers(
  c: Collections,
  query: UserQuery = {},
): Promise<{ users: User[]; total: number }> {
  const search = query.search?.trim().toLowerCase() ?? '';
  const offset = Math.max(0, Math.floor(query.offset ?? 0) || 0);
  const limit = query.limit === undefined ? 0 : Math.max(0, Math.floor(query.limit) || 0);
  const filter =
    search === ''
      ? {}
      : {
          $or: [
            { username: { $regex: escapeRegex(search) } },
            { nameLower: { $regex: escapeRegex(search) } },
          ],
        };
  const total = await c.users.countDocuments(filter);
  if (query.limit !== undefined && limit === 0) return { users: [], total };
  let cursor = c.users.find(filter).sort({ username: 1 }).skip(offset);
  if (limit > 0) cursor = cursor.limit(limit);
  return { users: (await cursor.toArray()).map(toUser), total };
}

export async function updateUser(c: Collections, userId: number, patch: UserPatch): Promise<User> {
  const set: Partial<UserDoc> = {};
  if (patch.name !== undefined) {
    set.name = validateName(patch.name);
    set.nameLower = set.name.toLowerCase();
  }
  if (patch.quotaBytes !== undefined) set.quotaBytes = validateQuota(patch.quotaBytes);
  if (patch.disabled !== undefined) set.disabled = Boolean(patch.disabled);
  if (patch.saveSentCopy !== undefined) set.saveSentCopy = Boolean(patch.saveSentCopy);
  if (patch.uidOnly !== undefined) set.uidOnly = patch.uidOnly === null ? null : Boolean(patch.uidOnly);
  const before = await c.users.findOneAndUpdate({ _id: userId }, { $set: set }, { returnDocument: 'before' });
  if (!before) throw new StoreError('NONEXISTENT', `no such user ${userId}`);
  return toUser({ ...before, ...set });
}

export async function setPasswordHash(c: Collections, userId: number, passwordHash: string): Promise<void> {
  const hash = validatePasswordHash(passwordHash);
  const result = await c.users.updateOne({ _id: userId }, { $set: { passwordHash: hash } });
  if (result.matchedCount === 0) throw new StoreError('NONEXISTENT', `no such user ${userId}`);
}

/**
 * Removes the user and everything it owns, mailbox by mailbox (each made unselectable, swept, then
 * deleted), then its addresses and app passwords, and the user document last: after a crash the
 * user is still there and deleting it again finishes the job.
 */
export async function deleteUser(c: Collections, userId: number): Promise<void> {
  await requireUser(c, userId);
  const mailboxes = await c.mailboxes.find({ user: userId }).toArray();
  for (const mailbox of mailboxes) await dropMailbox(c, mailbox, false);
  await writeJournal(
    c,
    userId,
    mailboxes.map((mailbox) => ({
      userId,
      mailboxId: mailbox._id,
      kind: 'mailbox-delete',
      path: mailbox.path,
    })),
  );
  await c.addresses.deleteMany({ user: userId });
  await c.appPasswords.deleteMany({ user: userId });
  await deleteSpamEntriesOf(c, userId);
  await deleteSieveOf(c, userId);
  await deleteImportProgressOf(c, userId);
  await deleteThreadLinksOf(c, userId);
  await c.users.deleteOne({ _id: userId });
}

export async function getCredentials(c: Collections, username: string): Promise<Credentials | null> {
  const doc = await c.users.findOne({ username: loginKey(username) });
  if (!doc) return null;
  const appPasswords = await c.appPasswords
    .find({ user: doc._id }, { projection: { _id: 1, hash: 1 } })
    .sort({ _id: 1 })
    .toArray();
  return {
    user: toUser(doc),
    passwordHash: doc.passwordHash,
    appPasswords: appPasswords.map((password) => ({ id: String(password._id), hash: password.hash })),
  };
}

// --- addresses ---

export async function addAddress(c: Collections, userId: number, address: string): Promise<Address> {
  const parsed = parseAddress(address);
  const kind: AddressKind = parsed.catchAll ? 'catchall' : 'alias';
  await requireUser(c, userId);
  try {
    await c.addresses.insertOne({ _id: parsed.address, user: userId, kind, createdAt: new Date() });
  } catch (error) {
    if (isDuplicateKey(error)) throw new StoreError('ALREADYEXISTS', `address ${parsed.address} is taken`);
    throw error;
  }
  await ensureDomainOf(c, parsed.address);
  // The user was deleted meanwhile: do not leave an address pointing nowhere.
  if (!(await c.users.findOne({ _id: userId }, { projection: { _id: 1 } }))) {
    await c.addresses.deleteOne({ _id: parsed.address, user: userId });
    throw new StoreError('NONEXISTENT', `no such user ${userId}`);
  }
  return { address: parsed.address, userId: String(userId), kind };
}

export async function removeAddress(c: Collections, address: string): Promise<void> {
  const normalized = loginKey(address);
  const doc = await c.addresses.findOne({ _id: normalized });
  if (!doc) throw new StoreError('NONEXISTENT', `no such address ${normalized}`);
  if (doc.kind === 'primary') throw new StoreError('CANNOT', 'the primary address cannot be removed');
  const result = await c.addresses.deleteOne({ _id: normalized, kind: { $ne: 'primary' } });
  if (result.deletedCount === 0) throw new StoreError('NONEXISTENT', `no such address ${normalized}`);
}

const KIND_ORDER: Record<AddressKind, number> = { primary: 0, alias: 1, catchall: 2 };

export async function listAddresses(c: Collections, userId: number): Promise<Address[]> {
  const docs: AddressDoc[] = await c.addresses.find({ user: userId }).toArray();
  // A primary address is only real once its user exists (see claimUsername).
  if (docs.length > 0 && !(await c.users.findOne({ _id: userId }, { projection: { _id: 1 } }))) return [];
  return docs
    .sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0))
    .map((doc) => ({ address: doc._id, userId: String(doc.user), kind: doc.kind }));
}

/** Exact address, then without "+tag", then the domain's catch-all; disabled users included. */
export async function resolveRecipient(c: Collections, recipient: string): Promise<User | null> {
  for (const candidate of recipientCandidates(recipient)) {
    const address = await c.addresses.findOne({ _id: candidate });
    if (!address) continue;
    const user = await c.users.findOne({ _id: address.user });
    if (user) return toUser(user);
  }
  return null;
}

// --- app passwords ---

export async function createAppPassword(
  c: Collections,
  userId: number,
  label: string,
  hash: string,
): Promise<AppPassword> {
  if (typeof label !== 'string') throw new StoreError('INVALID', 'label must be a string');
  const validHash = validatePasswordHash(hash);
  await requireUser(c, userId);
  const doc = {
    _id: await nextIds(c, 'appPasswords'),
    user: userId,
    label,
    hash: validHash,
    createdAt: new Date(),
    lastUsedAt: null,
  };
  await c.appPasswords.insertOne(doc);
  return toAppPassword(doc);
}

export async function listAppPasswords(c: Collections, userId: number): Promise<AppPassword[]> {
  const docs = await c.appPasswords.find({ user: userId }).sort({ _id: 1 }).toArray();
  return docs.map(toAppPassword);
}

export async function deleteAppPassword(c: Collections, userId: number, id: number): Promise<void> {
  const result = await c.appPasswords.deleteOne({ _id: id, user: userId });
  if (result.deletedCount === 0) throw new StoreError('NONEXISTENT', `no such app password ${id}`);
}

/** Records a use; an unknown id is ignored (the password may have been revoked meanwhile). */
export async function touchAppPassword(c: Collections, id: number): Promise<void> {
  await c.appPasswords.updateOne({ _id: id }, { $set: { lastUsedAt: new Date() } });
}
