/** The body test (RFC 5173): :raw, :content "types" or :text (the default) against keys. */
import type { TestDefinition } from '../definition.ts';
import { SieveCompileError } from '../errors.ts';
import { MATCH_TAGS, matchAny, matchOptions, validateMatch } from '../match.ts';
import { constantStrings } from './address.ts';

export const body: TestDefinition = {
  kind: 'test',
  name: 'body',
  extensions: ['body'],
  tags: {
    ...MATCH_TAGS,
    raw: { group: 'transform' },
    text: { group: 'transform' },
    content: { group: 'transform', argument: 'string-list' },
  },
  positional: ['string-list'],
  validate(node, context) {
    if (node.tags.has('count')) throw new SieveCompileError('body does not support :count', node.position);
    validateMatch(node, context, constantStrings(node.positional[0]));
  },
  evaluate(node, runtime) {
    const transform = node.tags.has('raw') ? 'raw' : node.tags.has('content') ? 'content' : 'text';
    const values = runtime.message.body(transform, runtime.strings(node.tags.get('content')));
    return matchAny(runtime, node, matchOptions(node), values, runtime.strings(node.positional[0]));
  },
};
