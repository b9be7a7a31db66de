/**
 * date and currentdate (RFC 5260): a part of the date in a header field (or of now) against keys,
 * shown in :zone, in the field's own zone (:originalzone), or else in the server's zone.
 */
import type { TestNode } from '../ast.ts';
import type { TestDefinition, TagDefinition } from '../definition.ts';
import { SieveCompileError } from '../errors.ts';
import { INDEX_TAGS, selectIndex } from '../address-part.ts';
import { DATE_PARTS, datePart, parseZone, parseZonedDate } from '../dates.ts';
import { MATCH_TAGS, matchAny, matchOptions, validateMatch } from '../match.ts';
import type { Runtime } from '../runtime.ts';
import { constantStrings } from './address.ts';

const ZONE_TAGS: Record<string, TagDefinition> = {
  zone: { argument: 'string', group: 'zone' },
  originalzone: { group: 'zone' },
};

function checkPart(node: TestNode, index: number): void {
  const part = node.positional[index];
  if (
    part?.kind === 'string' &&
    !part.value.includes('${') &&
    !DATE_PARTS.includes(part.value.toLowerCase())
  ) {
    throw new SieveCompileError(`unknown date part "${part.value}"`, part.position);
  }
  const zone = node.tags.get('zone');
  if (zone !== undefined && zone !== true && zone.kind === 'string' && !/^[+-]\d{4}$/.test(zone.value)) {
    throw new SieveCompileError(`invalid zone "${zone.value}" (expected +hhmm or -hhmm)`, zone.position);
  }
}

function defaultOffset(runtime: Runtime, now: Date): number {
  const configured = runtime.env.zone;
  return configured !== undefined ? (parseZone(configured) ?? 0) : -now.getTimezoneOffset();
}

function zoneOffset(runtime: Runtime, node: TestNode, original: number, now: Date): number {
  if (node.tags.has('zone')) return parseZone(runtime.string(node.tags.get('zone'))) ?? 0;
  if (node.tags.has('originalzone')) return original;
  return defaultOffset(runtime, now);
}

export const date: TestDefinition = {
  kind: 'test',
  name: 'date',
  extensions: ['date'],
  tags: { ...MATCH_TAGS, ...ZONE_TAGS, ...INDEX_TAGS },
  positional: ['string', 'string', 'string-list'],
  validate(node, context) {
    checkPart(node, 1);
    validateMatch(node, context, constantStrings(node.positional[2]));
  },
  evaluate(node, runtime) {
    const now = runtime.env.now ?? new Date();
    const part = runtime.string(node.positional[1]).toLowerCase();
    const fields = selectIndex(
      runtime,
      node,
      runtime.message.headerValues(runtime.string(node.positional[0])),
    );
    const values: string[] = [];
    for (const field of fields) {
      const parsed = parseZonedDate(field);
      if (parsed !== null)
        values.push(datePart(part, parsed.time, zoneOffset(runtime, node, parsed.offset, now)));
    }
    return matchAny(runtime, node, matchOptions(node), values, runtime.strings(node.positional[2]));
  },
};

export const currentdate: TestDefinition = {
  kind: 'test',
  name: 'currentdate',
  extensions: ['date'],
  tags: { ...MATCH_TAGS, zone: { argument: 'string' } },
  positional: ['string', 'string-list'],
  validate(node, context) {
    checkPart(node, 0);
    validateMatch(node, context, constantStrings(node.positional[1]));
  },
  evaluate(node, runtime) {
    const now = runtime.env.now ?? new Date();
    const part = runtime.string(node.positional[0]).toLowerCase();
    const value = datePart(part, now.getTime(), zoneOffset(runtime, node, 0, now));
    return matchAny(runtime, node, matchOptions(node), [value], runtime.strings(node.positional[1]));
  },
};
