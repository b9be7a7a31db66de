/** allof, anyof, not, true and false (RFC 5228 sections 5.2, 5.3, 5.6, 5.8, 5.10); short-circuiting. */
import type { TestDefinition } from '../definition.ts';
import { evaluate } from '../interpreter.ts';

export const allof: TestDefinition = {
  kind: 'test',
  name: 'allof',
  positional: [],
  tests: 'list',
  evaluate: (node, runtime) => node.tests.every((test) => evaluate(runtime, test)),
};

export const anyof: TestDefinition = {
  kind: 'test',
  name: 'anyof',
  positional: [],
  tests: 'list',
  evaluate: (node, runtime) => node.tests.some((test) => evaluate(runtime, test)),
};

export const not: TestDefinition = {
  kind: 'test',
  name: 'not',
  positional: [],
  tests: 'one',
  evaluate: (node, runtime) => !evaluate(runtime, node.tests[0] as never),
};

export const trueTest: TestDefinition = { kind: 'test', name: 'true', positional: [], evaluate: () => true };
export const falseTest: TestDefinition = {
  kind: 'test',
  name: 'false',
  positional: [],
  evaluate: () => false,
};
