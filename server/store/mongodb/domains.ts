/**
 * Domain records on MongoDB, with the semantics of the sqlite engine (../sqlite/domains.ts). The
 * catch-all is the `*@domain` address document, as it has always been.
 */
import { domainOfAddress, normalizeDomainName, tryDomainName, usageText } from '../domains.ts';
import { StoreError } from '../errors.ts';
import type { Domain, DomainPatch, DomainUsage } from '../types.ts';
import { isDuplicateKey, type Collections, type DomainDoc } from './schema.ts';

function lookupKey(name: string): string {
  return tryDomainName(name) ?? (typeof name === 'string' ? name.trim().toLowerCase() : '');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

async function toDomain(c: Collections, doc: DomainDoc): Promise<Domain> {
  const catchAll = await c.addresses.findOne({ _id: `*@${doc._id}` });
  const user = catchAll
    ? await c.users.findOne({ _id: catchAll.user }, { projection: { username: 1 } })
    : null;
  return { name: doc._id, catchAll: user?.username ?? null, dkim: doc.dkim, createdAt: doc.createdAt };
}

async function requireDomain(c: Collections, name: string): Promise<DomainDoc> {
  const key = lookupKey(name);
  const doc = await c.domains.findOne({ _id: key });
  if (!doc) throw new StoreError('NONEXISTENT', `no such domain ${key}`);
  return doc;
}

export async function listDomains(c: Collections): Promise<Domain[]> {
  const docs = await c.domains.find({}).sort({ _id: 1 }).toArray();
  return Promise.all(docs.map((doc) => toDomain(c, doc)));
}

export async function getDomain(c: Collections, name: string): Promise<Domain | null> {
  const doc = await c.domains.findOne({ _id: lookupKey(name) });
  return doc ? toDomain(c, doc) : null;
}

export async function createDomain(c: Collections, domain: { name: string }): Promise<Domain> {
  const doc: DomainDoc = { _id: normalizeDomainName(domain?.name), dkim: true, createdAt: new Date() };
  try {
    await c.domains.insertOne(doc);
  } catch (error) {
    if (isDuplicateKey(error)) throw new StoreError('ALREADYEXISTS', `domain ${doc._id} exists`);
    throw error;
  }
  return toDomain(c, doc);
}

/** Records the domain of a stored address when it has none yet. */
export async function ensureDomainOf(c: Collections, address: string): Promise<void> {
  const name = domainOfAddress(address);
  if (name === '') return;
  try {
    await c.domains.updateOne(
      { _id: name },
      { $setOnInsert: { dkim: true, createdAt: new Date() } },
      { upsert: true },
    );
  } catch (error) {
    if (!isDuplicateKey(error)) throw error; // another process made it at the same moment
  }
}

export async function updateDomain(c: Collections, name: string, patch: DomainPatch): Promise<Domain> {
  const doc = await requireDomain(c, name);
  if (patch.catchAll !== undefined) await setCatchAll(c, doc._id, patch.catchAll);
  if (patch.dkim !== undefined) {
    await c.domains.updateOne({ _id: doc._id }, { $set: { dkim: Boolean(patch.dkim) } });
    doc.dkim = Boolean(patch.dkim);
  }
  return toDomain(c, doc);
}

async function setCatchAll(c: Collections, domain: string, target: string | null): Promise<void> {
  const catchAll = `*@${domain}`;
  if (target === null) {
    await c.addresses.deleteOne({ _id: catchAll });
    return;
  }
  const wanted = typeof target === 'string' ? target.trim().toLowerCase() : '';
  const owner = await c.addresses.findOne({ _id: wanted, kind: { $ne: 'catchall' } });
  if (!owner || !(await c.users.findOne({ _id: owner.user }, { projection: { _id: 1 } }))) {
    throw new StoreError('NONEXISTENT', `no user has the address ${wanted}`);
  }
  await c.addresses.updateOne(
    { _id: catchAll },
    { $set: { user: owner.user, kind: 'catchall' }, $setOnInsert: { createdAt: new Date() } },
    { upsert: true },
  );
}

/** Users and aliases with an address in the domain (see Store.domainUsage). */
export async function domainUsage(c: Collections, name: string): Promise<DomainUsage> {
  return usageOf(c, (await requireDomain(c, name))._id);
}

async function usageOf(c: Collections, domain: string): Promise<DomainUsage> {
  const inDomain = { _id: { $regex: `@${escapeRegex(domain)}$` } };
  const users = await c.addresses.countDocuments({ ...inDomain, kind: 'primary' });
  const aliases = await c.addresses.countDocuments({ ...inDomain, kind: 'alias' });
  return { users, aliases };
}

export async function deleteDomain(c: Collections, name: string): Promise<void> {
  const doc = await requireDomain(c, name);
  const { users, aliases } = await usageOf(c, doc._id);
  if (users + aliases > 0) {
    throw new StoreError('CANNOT', `domain ${doc._id} is used by ${usageText(users, aliases)}`);
  }
  await c.addresses.deleteOne({ _id: `*@${doc._id}` });
  await c.domains.deleteOne({ _id: doc._id });
}
