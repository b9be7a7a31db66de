/** The exists test (RFC 5228 section 5.5): true when every named header field is present. */
import type { TestDefinition } from '../definition.ts';

export const exists: TestDefinition = {
  kind: 'test',
  name: 'exists',
  positional: ['string-list'],
  evaluate(node, runtime) {
    return runtime.strings(node.positional[0]).every((name) => runtime.message.rawValues(name).length > 0);
  },
};
