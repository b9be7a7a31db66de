/**
 * Address parts (RFC 5228 section 2.7.4: :all, :localpart, :domain; RFC 5233: :user and :detail
 * around the "+" separator) and the :index/:last tags of RFC 5260 section 4, shared by the address,
 * envelope, header and date tests.
 */
import type { TestNode } from './ast.ts';
import type { TagDefinition } from './definition.ts';
import { splitAddress } from './message.ts';
import type { Runtime } from './runtime.ts';

export const ADDRESS_PART_TAGS: Record<string, TagDefinition> = {
  all: { group: 'address-part' },
  localpart: { group: 'address-part' },
  domain: { group: 'address-part' },
  user: { group: 'address-part', extension: 'subaddress' },
  detail: { group: 'address-part', extension: 'subaddress' },
};

export const INDEX_TAGS: Record<string, TagDefinition> = {
  index: { argument: 'number', extension: 'index' },
  last: { extension: 'index' },
};

const SEPARATOR = '+';

/** The part of an address the test looks at, or null when it has none (:detail without "+"). */
export function addressPart(node: TestNode, address: string): string | null {
  const { local, domain } = splitAddress(address);
  if (node.tags.has('localpart')) return local;
  if (node.tags.has('domain')) return domain;
  const plus = local.indexOf(SEPARATOR);
  if (node.tags.has('user')) return plus < 0 ? local : local.slice(0, plus);
  if (node.tags.has('detail')) return plus < 0 ? null : local.slice(plus + 1);
  return address;
}

/** The field values :index/:last select (1-based, counted from the end with :last); all otherwise. */
export function selectIndex<T>(runtime: Runtime, node: TestNode, values: T[]): T[] {
  const index = node.tags.get('index');
  if (index === undefined) return values;
  const n = runtime.number(index);
  const position = node.tags.has('last') ? values.length - n : n - 1;
  const chosen = values[position];
  return n >= 1 && chosen !== undefined ? [chosen] : [];
}
