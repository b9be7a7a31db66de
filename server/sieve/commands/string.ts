/** The string test (RFC 5229 section 5): strings (usually expanded variables) against keys. */
import type { TestDefinition } from '../definition.ts';
import { MATCH_TAGS, matchAny, matchOptions, validateMatch } from '../match.ts';
import { constantStrings } from './address.ts';

export const string: TestDefinition = {
  kind: 'test',
  name: 'string',
  extensions: ['variables'],
  tags: MATCH_TAGS,
  positional: ['string-list', 'string-list'],
  validate(node, context) {
    validateMatch(node, context, constantStrings(node.positional[1]));
  },
  evaluate(node, runtime) {
    // For :count, empty strings are not counted (RFC 5229 section 5).
    const sources = runtime.strings(node.positional[0]);
    const values = node.tags.has('count') ? sources.filter((value) => value !== '') : sources;
    return matchAny(runtime, node, matchOptions(node), values, runtime.strings(node.positional[1]));
  },
};
