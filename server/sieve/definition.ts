/**
 * What every command and test file declares: its name, the capability a script must require to use
 * it, its tagged and positional arguments (checked once, by the validator), and what it does at run
 * time. The interpreter and the validator know commands only through these definitions.
 */
import type { CommandNode, TestNode } from './ast.ts';
import type { Runtime } from './runtime.ts';

export type ArgumentType = 'string' | 'string-list' | 'number';

export interface TagDefinition {
  /** The value the tag takes, or none for a flag-like tag such as :copy. */
  argument?: ArgumentType;
  /** The capability that must be required to use this tag (core when absent). */
  extension?: string;
  /** Tags of one group exclude each other (e.g. the match types :is, :contains, ...). */
  group?: string;
}

export interface ValidationContext {
  /** Capabilities the script has required so far. */
  extensions: Set<string>;
  /** Whether `require` is still allowed (RFC 5228 section 3.2: only before other commands). */
  requireAllowed: boolean;
  /** When given, include checks at compile time that the scripts it names exist (as Pigeonhole). */
  loadScript?: (name: string, location: 'personal' | 'global') => string | null;
}

interface Definition {
  name: string;
  /** Any one of these capabilities makes the command usable; core when absent. */
  extensions?: string[];
  tags?: Record<string, TagDefinition>;
  positional: ArgumentType[];
  /** How many of the last positional arguments may be left out. */
  optional?: number;
  /** Extra checks beyond the argument shapes (throw SieveCompileError). */
  validate?(node: TestNode, context: ValidationContext): void;
}

export interface CommandDefinition extends Definition {
  kind: 'command';
  /** Whether the command takes a { block } instead of ";". */
  block?: boolean;
  /** Number of tests the command takes (if/elsif take one). */
  tests?: 'none' | 'one';
  execute(node: CommandNode, runtime: Runtime): void;
}

export interface TestDefinition extends Definition {
  kind: 'test';
  tests?: 'none' | 'one' | 'list';
  evaluate(node: TestNode, runtime: Runtime): boolean;
}
