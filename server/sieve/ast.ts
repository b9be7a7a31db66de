/** The syntax tree of a Sieve script (RFC 5228 section 8.2): commands, tests and their arguments. */
import type { SourcePosition } from './errors.ts';

export interface StringArgument {
  kind: 'string';
  value: string;
  position: SourcePosition;
}

export interface StringListArgument {
  kind: 'string-list';
  values: string[];
  position: SourcePosition;
}

export interface NumberArgument {
  kind: 'number';
  value: number;
  position: SourcePosition;
}

export interface TagArgument {
  kind: 'tag';
  /** Lower-cased, without the colon. */
  name: string;
  position: SourcePosition;
}

export type Argument = StringArgument | StringListArgument | NumberArgument | TagArgument;

export interface TestNode {
  /** Lower-cased identifier. */
  name: string;
  arguments: Argument[];
  tests: TestNode[];
  position: SourcePosition;
  /** Filled by the validator: tagged arguments and their values (true for a tag without a value). */
  tags: Map<string, Argument | true>;
  /** Filled by the validator: the positional arguments, in order. */
  positional: Argument[];
}

export interface CommandNode extends TestNode {
  /** The commands of a { block }, or null for a command ended by ";". */
  block: CommandNode[] | null;
}
