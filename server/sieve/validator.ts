/**
 * Checks a parsed script against the command definitions: `require` first and only for supported
 * capabilities, every command and test known and required, tagged arguments known, not repeated
 * and with values of the right type, positional arguments of the right number and types, blocks
 * and tests where they belong, elsif/else after an if. Fills each node's tags and positional lists.
 */
import type { Argument, CommandNode, TestNode } from './ast.ts';
import type { ArgumentType, CommandDefinition, TestDefinition, ValidationContext } from './definition.ts';
import { SieveCompileError } from './errors.ts';
import { commandDefinition, testDefinition } from './registry.ts';

export function validateScript(commands: CommandNode[], context: ValidationContext): void {
  validateBlock(commands, context, true);
}

function validateBlock(commands: CommandNode[], context: ValidationContext, topLevel: boolean): void {
  let previous: string | null = null;
  for (const command of commands) {
    if (command.name !== 'require' || !topLevel) context.requireAllowed = false;
    if ((command.name === 'elsif' || command.name === 'else') && previous !== 'if' && previous !== 'elsif') {
      throw new SieveCompileError(`${command.name} without a preceding if`, command.position);
    }
    validateCommand(command, context);
    previous = command.name;
  }
}

function validateCommand(node: CommandNode, context: ValidationContext): void {
  const definition = commandDefinition(node.name);
  if (definition === undefined) {
    const asTest = testDefinition(node.name) !== undefined ? ` (${node.name} is a test)` : '';
    throw new SieveCompileError(`unknown command "${node.name}"${asTest}`, node.position);
  }
  checkExtension(definition, node, context, 'command');
  bindArguments(definition, node, context);
  const wantsTest = definition.tests === 'one';
  if (wantsTest && node.tests.length !== 1) {
    throw new SieveCompileError(`${node.name} needs exactly one test`, node.position);
  }
  if (!wantsTest && node.tests.length > 0) {
    throw new SieveCompileError(`${node.name} takes no test`, node.position);
  }
  if (definition.block === true && node.block === null) {
    throw new SieveCompileError(`${node.name} needs a block`, node.position);
  }
  if (definition.block !== true && node.block !== null) {
    throw new SieveCompileError(`${node.name} takes no block (expected ";")`, node.position);
  }
  for (const test of node.tests) validateTest(test, context);
  definition.validate?.(node, context);
  if (node.block !== null) validateBlock(node.block, context, false);
}

function validateTest(node: TestNode, context: ValidationContext): void {
  const definition = testDefinition(node.name);
  if (definition === undefined) {
    throw new SieveCompileError(`unknown test "${node.name}"`, node.position);
  }
  checkExtension(definition, node, context, 'test');
  bindArguments(definition, node, context);
  const count = node.tests.length;
  const wanted = definition.tests ?? 'none';
  if (wanted === 'none' && count > 0)
    throw new SieveCompileError(`${node.name} takes no test`, node.position);
  if (wanted === 'one' && count !== 1)
    throw new SieveCompileError(`${node.name} needs exactly one test`, node.position);
  if (wanted === 'list' && count === 0)
    throw new SieveCompileError(`${node.name} needs a list of tests`, node.position);
  for (const test of node.tests) validateTest(test, context);
  definition.validate?.(node, context);
}

function checkExtension(
  definition: CommandDefinition | TestDefinition,
  node: TestNode,
  context: ValidationContext,
  what: string,
): void {
  const needed = definition.extensions;
  if (needed === undefined || needed.some((name) => context.extensions.has(name))) return;
  throw new SieveCompileError(`${what} "${node.name}" used without require "${needed[0]}"`, node.position);
}

function fits(argument: Argument, type: ArgumentType): boolean {
  if (type === 'string-list') return argument.kind === 'string' || argument.kind === 'string-list';
  return argument.kind === type;
}

function describe(type: ArgumentType): string {
  return type === 'string-list' ? 'a string list' : type === 'string' ? 'a string' : 'a number';
}

function bindArguments(
  definition: CommandDefinition | TestDefinition,
  node: TestNode,
  context: ValidationContext,
): void {
  const tags = definition.tags ?? {};
  const groups = new Map<string, string>();
  node.tags = new Map();
  node.positional = [];
  const args = node.arguments;
  for (let i = 0; i < args.length; i++) {
    const argument = args[i] as Argument;
    if (argument.kind !== 'tag') {
      node.positional.push(argument);
      continue;
    }
    const tag = tags[argument.name];
    if (tag === undefined || (tag.extension !== undefined && !context.extensions.has(tag.extension))) {
      const hint = tag?.extension !== undefined ? ` (needs require "${tag.extension}")` : '';
      throw new SieveCompileError(
        `unknown tagged argument :${argument.name} for ${node.name}${hint}`,
        argument.position,
      );
    }
    if (node.positional.length > 0) {
      throw new SieveCompileError(
        `tagged argument :${argument.name} after positional arguments`,
        argument.position,
      );
    }
    if (node.tags.has(argument.name)) {
      throw new SieveCompileError(`tagged argument :${argument.name} given twice`, argument.position);
    }
    if (tag.group !== undefined) {
      const other = groups.get(tag.group);
      if (other !== undefined) {
        throw new SieveCompileError(`:${argument.name} cannot be combined with :${other}`, argument.position);
      }
      groups.set(tag.group, argument.name);
    }
    if (tag.argument === undefined) {
      node.tags.set(argument.name, true);
      continue;
    }
    const value = args[i + 1];
    if (value === undefined || !fits(value, tag.argument)) {
      throw new SieveCompileError(`:${argument.name} needs ${describe(tag.argument)}`, argument.position);
    }
    node.tags.set(argument.name, value);
    i++;
  }
  const expected = definition.positional;
  const least = expected.length - (definition.optional ?? 0);
  if (node.positional.length < least || node.positional.length > expected.length) {
    const count = least === expected.length ? `${least}` : `${least} to ${expected.length}`;
    throw new SieveCompileError(
      `${node.name} takes ${count} positional argument(s), found ${node.positional.length}`,
      node.position,
    );
  }
  node.positional.forEach((argument, index) => {
    const type = expected[index] as ArgumentType;
    if (!fits(argument, type)) {
      throw new SieveCompileError(
        `argument ${index + 1} of ${node.name} must be ${describe(type)}`,
        argument.position,
      );
    }
  });
}
