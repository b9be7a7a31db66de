/**
 * Contract ids: both engines number users, mailboxes, rules and app passwords with positive
 * integers and hand them out as decimal strings.
 */
import { StoreError } from './errors.ts';
import type { Id } from './types.ts';

/** The integer behind a contract id, or null when it cannot be one of ours. */
export function parseId(id: Id): number | null {
  if (typeof id !== 'string' || !/^[1-9][0-9]{0,14}$/.test(id)) return null;
  return Number(id);
}

/** Like parseId, but NONEXISTENT for an id that names nothing. */
export function requireId(id: Id, what: string): number {
  const parsed = parseId(id);
  if (parsed === null) throw new StoreError('NONEXISTENT', `no such ${what} ${JSON.stringify(id)}`);
  return parsed;
}
