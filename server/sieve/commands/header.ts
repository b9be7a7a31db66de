/** The header test (RFC 5228 section 5.7): decoded values of the named fields against keys. */
import type { TestDefinition } from '../definition.ts';
import { INDEX_TAGS, selectIndex } from '../address-part.ts';
import { MATCH_TAGS, matchAny, matchOptions, validateMatch } from '../match.ts';
import { constantStrings } from './address.ts';

export const header: TestDefinition = {
  kind: 'test',
  name: 'header',
  tags: { ...MATCH_TAGS, ...INDEX_TAGS },
  positional: ['string-list', 'string-list'],
  validate(node, context) {
    validateMatch(node, context, constantStrings(node.positional[1]));
  },
  evaluate(node, runtime) {
    const values = runtime
      .strings(node.positional[0])
      .flatMap((name) => selectIndex(runtime, node, runtime.message.headerValues(name)));
    return matchAny(runtime, node, matchOptions(node), values, runtime.strings(node.positional[1]));
  },
};
