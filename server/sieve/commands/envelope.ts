/**
 * The envelope test (RFC 5228 section 5.4): "from" is MAIL FROM ("" for the null sender), "to" the
 * recipient being delivered to.
 */
import type { TestDefinition } from '../definition.ts';
import { SieveCompileError } from '../errors.ts';
import { ADDRESS_PART_TAGS, addressPart } from '../address-part.ts';
import { MATCH_TAGS, matchAny, matchOptions, validateMatch } from '../match.ts';
import { constantStrings } from './address.ts';

export const envelope: TestDefinition = {
  kind: 'test',
  name: 'envelope',
  extensions: ['envelope'],
  tags: { ...MATCH_TAGS, ...ADDRESS_PART_TAGS },
  positional: ['string-list', 'string-list'],
  validate(node, context) {
    for (const part of constantStrings(node.positional[0]) ?? []) {
      if (!part.includes('${') && !['from', 'to'].includes(part.toLowerCase())) {
        throw new SieveCompileError(`envelope: unknown envelope part "${part}"`, node.position);
      }
    }
    validateMatch(node, context, constantStrings(node.positional[1]));
  },
  evaluate(node, runtime) {
    const values: string[] = [];
    for (const part of runtime.strings(node.positional[0])) {
      const key = part.toLowerCase();
      const value =
        key === 'from' ? runtime.env.envelope.from : key === 'to' ? runtime.env.envelope.to : null;
      if (value === null) continue;
      // The null sender has no parts: only :all sees it, as "" (RFC 5228 5.4).
      if (value === '') {
        if (!['localpart', 'domain', 'user', 'detail'].some((tag) => node.tags.has(tag))) values.push('');
        continue;
      }
      const selected = addressPart(node, value);
      if (selected !== null) values.push(selected);
    }
    return matchAny(runtime, node, matchOptions(node), values, runtime.strings(node.positional[1]));
  },
};
