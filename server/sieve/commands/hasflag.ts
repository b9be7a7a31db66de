/** The hasflag test (RFC 5232 section 4): flags in the internal variable (or named ones) against keys. */
import type { TestDefinition } from '../definition.ts';
import { MATCH_TAGS, matchAny, matchOptions, validateMatch } from '../match.ts';
import { flagList } from '../runtime.ts';

export const hasflag: TestDefinition = {
  kind: 'test',
  name: 'hasflag',
  extensions: ['imap4flags'],
  tags: MATCH_TAGS,
  positional: ['string-list', 'string-list'],
  optional: 1,
  validate(node, context) {
    validateMatch(node, context, null);
  },
  evaluate(node, runtime) {
    const withVariables = node.positional.length === 2;
    const flags = withVariables
      ? flagList(runtime.strings(node.positional[0]).map((name) => runtime.getVariable(name)))
      : runtime.internalFlags;
    const keys = flagList(runtime.strings(node.positional[withVariables ? 1 : 0]));
    return matchAny(runtime, node, matchOptions(node), flags, keys);
  },
};
