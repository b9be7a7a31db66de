/**
 * Compiling a script: parse, decode encoded characters when required, validate. The result can be
 * run many times; `checkScript` gives the first problem with its line and column.
 */
import type { Argument, CommandNode, TestNode } from './ast.ts';
import type { ValidationContext } from './definition.ts';
import { SieveCompileError } from './errors.ts';
import { parseScript } from './parser.ts';
import { validateScript } from './validator.ts';
import { decodeEncodedCharacters } from './variables.ts';

export interface CompiledScript {
  commands: CommandNode[];
  extensions: Set<string>;
}

export interface CompileOptions {
  /** Lets include check that the scripts it names exist. */
  loadScript?: (name: string, location: 'personal' | 'global') => string | null;
}

export function compileScript(source: string, options: CompileOptions = {}): CompiledScript {
  const commands = parseScript(source);
  const extensions = new Set<string>();
  const context: ValidationContext = { extensions, requireAllowed: true, loadScript: options.loadScript };
  validateScript(commands, context);
  if (extensions.has('encoded-character')) for (const command of commands) decodeNode(command);
  return { commands, extensions };
}

/** Null when the script compiles, else its first error ("line L, column C: ..."). */
export function checkScript(source: string, options: CompileOptions = {}): SieveCompileError | null {
  try {
    compileScript(source, options);
    return null;
  } catch (error) {
    if (error instanceof SieveCompileError) return error;
    throw error;
  }
}

function decodeArgument(argument: Argument): void {
  if (argument.kind === 'string') argument.value = decodeEncodedCharacters(argument.value);
  if (argument.kind === 'string-list') argument.values = argument.values.map(decodeEncodedCharacters);
}

function decodeNode(node: TestNode | CommandNode): void {
  node.arguments.forEach(decodeArgument);
  node.tests.forEach(decodeNode);
  if ('block' in node && node.block !== null) node.block.forEach(decodeNode);
}
