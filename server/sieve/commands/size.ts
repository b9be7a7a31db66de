/** The size test (RFC 5228 section 5.9): :over or :under a number of octets (one of the two). */
import type { TestDefinition } from '../definition.ts';
import { SieveCompileError } from '../errors.ts';

export const size: TestDefinition = {
  kind: 'test',
  name: 'size',
  tags: { over: { group: 'relation' }, under: { group: 'relation' } },
  positional: ['number'],
  validate(node) {
    if (!node.tags.has('over') && !node.tags.has('under')) {
      throw new SieveCompileError('size needs :over or :under', node.position);
    }
  },
  evaluate(node, runtime) {
    const limit = runtime.number(node.positional[0]);
    return node.tags.has('over') ? runtime.message.size > limit : runtime.message.size < limit;
  },
};
