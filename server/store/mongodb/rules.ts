/**
 * Connection rules on MongoDB. The list is short and changed by administrators only, but a change
 * rewrites several positions, so changes take a lease lock (a `locks` document with an expiry: a
 * holder that died frees it by itself) instead of a transaction. Every change bumps the
 * `rulesVersion` counter after its writes, so a process that sees the version move reads the
 * whole change.
 */
import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.ts';
import { applyRulePatch, validatePosition, validateRule, type RuleFields } from '../rules.ts';
import type { ConnectionRule, ConnectionRulePatch, NewConnectionRule } from '../types.ts';
import { counterValue, nextIds } from './counters.ts';
import { backoff } from './docs.ts';
import { isDuplicateKey, type Collections, type RuleDoc } from './schema.ts';

const LOCK_LEASE_MS = 10_000;
const LOCK_WAIT_MS = 15_000;

function toRule(doc: RuleDoc): ConnectionRule {
  return {
    id: String(doc._id),
    position: doc.position,
    kind: doc.kind,
    cidrs: doc.cidrs,
    limit: doc.limit,
    windowSeconds: doc.windowSeconds,
    protocols: doc.protocols,
    enabled: doc.enabled,
    note: doc.note,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

function fieldsOf(rule: ConnectionRule): RuleFields {
  const { kind, cidrs, limit, windowSeconds, protocols, enabled, note } = rule;
  return { kind, cidrs, limit, windowSeconds, protocols, enabled, note };
}

/** Runs `fn` holding the named lease lock. */
export async function withLock<T>(c: Collections, name: string, fn: () => Promise<T>): Promise<T> {
  const owner = randomBytes(12).toString('hex');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    const now = new Date();
    try {
      // Matches a free (expired) lock; otherwise the upsert collides with the held one on _id.
      await c.locks.updateOne(
        { _id: name, until: { $lt: now } },
        { $set: { owner, until: new Date(now.getTime() + LOCK_LEASE_MS) } },
        { upsert: true },
      );
      break;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    if (Date.now() > deadline) throw new StoreError('UNAVAILABLE', `the ${name} lock is busy`);
    await backoff(attempt);
  }
  try {
    return await fn();
  } finally {
    await c.locks.deleteOne({ _id: name, owner }).catch(() => undefined);
  }
}

async function bumpVersion(c: Collections): Promise<void> {
  await nextIds(c, 'rulesVersion');
}

async function requireRule(c: Collections, id: number): Promise<RuleDoc> {
  const doc = await c.rules.findOne({ _id: id });
  if (!doc) throw new StoreError('NONEXISTENT', `no such rule ${id}`);
  return doc;
}

export async function listRules(c: Collections): Promise<ConnectionRule[]> {
  return (await c.rules.find({}).sort({ position: 1, _id: 1 }).toArray()).map(toRule);
}

export function rulesVersion(c: Collections): Promise<number> {
  return counterValue(c, 'rulesVersion');
}

async function insertRule(
  c: Collections,
  fields: RuleFields,
  requested: number | undefined,
): Promise<ConnectionRule> {
  const count = await c.rules.countDocuments({});
  const position = requested === undefined ? count + 1 : Math.min(requested, count + 1);
  await c.rules.updateMany({ position: { $gte: position } }, { $inc: { position: 1 } });
  const now = new Date();
  const doc: RuleDoc = {
    _id: await nextIds(c, 'rules'),
    position,
    ...fields,
    createdAt: now,
    updatedAt: now,
  };
  await c.rules.insertOne(doc);
  return toRule(doc);
}

export async function createRule(c: Collections, input: NewConnectionRule): Promise<ConnectionRule> {
  const fields = validateRule(input);
  const position = input.position === undefined ? undefined : validatePosition(input.position);
  return withLock(c, 'rules', async () => {
    const rule = await insertRule(c, fields, position);
    await bumpVersion(c);
    return rule;
  });
}

export async function seedRules(c: Collections, inputs: NewConnectionRule[]): Promise<boolean> {
  if (!Array.isArray(inputs)) throw new StoreError('INVALID', 'rules to seed must be a list');
  // Validate them all first: a bad one seeds nothing.
  const all = inputs.map((input) => validateRule(input));
  return withLock(c, 'rules', async () => {
    if ((await rulesVersion(c)) !== 0 || all.length === 0) return false;
    for (const fields of all) await insertRule(c, fields, undefined);
    await bumpVersion(c);
    return true;
  });
}

export async function updateRule(
  c: Collections,
  id: number,
  patch: ConnectionRulePatch,
): Promise<ConnectionRule> {
  return withLock(c, 'rules', async () => {
    const current = toRule(await requireRule(c, id));
    const fields = applyRulePatch(fieldsOf(current), patch);
    const updatedAt = new Date(Math.max(Date.now(), current.updatedAt.getTime()));
    await c.rules.updateOne({ _id: id }, { $set: { ...fields, updatedAt } });
    await bumpVersion(c);
    return { ...current, ...fields, updatedAt };
  });
}

export async function deleteRule(c: Collections, id: number): Promise<void> {
  await withLock(c, 'rules', async () => {
    const doc = await requireRule(c, id);
    await c.rules.deleteOne({ _id: id });
    await c.rules.updateMany({ position: { $gt: doc.position } }, { $inc: { position: -1 } });
    await bumpVersion(c);
  });
}

export async function moveRule(c: Collections, id: number, requested: number): Promise<ConnectionRule> {
  const wanted = validatePosition(requested);
  return withLock(c, 'rules', async () => {
    const doc = await requireRule(c, id);
    const position = Math.min(wanted, await c.rules.countDocuments({}));
    if (position === doc.position) return toRule(doc);
    if (position < doc.position) {
      await c.rules.updateMany(
        { position: { $gte: position, $lt: doc.position } },
        { $inc: { position: 1 } },
      );
    } else {
      await c.rules.updateMany(
        { position: { $gt: doc.position, $lte: position } },
        { $inc: { position: -1 } },
      );
    }
    const updatedAt = new Date(Math.max(Date.now(), doc.updatedAt.getTime()));
    await c.rules.updateOne({ _id: id }, { $set: { position, updatedAt } });
    await bumpVersion(c);
    return toRule({ ...doc, position, updatedAt });
  });
}
