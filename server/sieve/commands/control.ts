/**
 * if / elsif / else (RFC 5228 section 3.1). The interpreter runs the branches itself (they depend on
 * each other); these definitions give their argument shapes to the validator.
 */
import type { CommandDefinition } from '../definition.ts';

function branch(name: string, tests: 'one' | 'none'): CommandDefinition {
  return { kind: 'command', name, positional: [], tests, block: true, execute() {} };
}

export const ifCommand = branch('if', 'one');
export const elsifCommand = branch('elsif', 'one');
export const elseCommand = branch('else', 'none');
