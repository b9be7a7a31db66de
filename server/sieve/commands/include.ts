/**
 * include, return and global (RFC 6609). An included script runs with its own variables (global
 * ones shared) and its own requires; loops and nesting past the limit are runtime errors, a
 * missing script is one too unless :optional.
 */
import type { CommandDefinition } from '../definition.ts';
import { SieveCompileError, SieveRuntimeError } from '../errors.ts';
import { runScriptIn } from '../interpreter.ts';
import { ReturnSignal, StopSignal } from '../runtime.ts';
import { compileScript } from '../script.ts';

export const include: CommandDefinition = {
  kind: 'command',
  name: 'include',
  extensions: ['include'],
  tags: {
    personal: { group: 'location' },
    global: { group: 'location' },
    once: {},
    optional: {},
  },
  positional: ['string'],
  validate(node, context) {
    const name = node.positional[0];
    if (name?.kind !== 'string') return;
    if (name.value === '' || name.value.includes('/')) {
      throw new SieveCompileError(
        `include: invalid script name ${JSON.stringify(name.value)}`,
        name.position,
      );
    }
    const location = node.tags.has('global') ? 'global' : 'personal';
    const dynamic = context.extensions.has('variables') && name.value.includes('${');
    if (context.loadScript === undefined || dynamic || node.tags.has('optional')) return;
    if (context.loadScript(name.value, location) === null) {
      throw new SieveCompileError(`include: there is no ${location} script "${name.value}"`, name.position);
    }
  },
  execute(node, runtime) {
    const name = runtime.string(node.positional[0]);
    const location = node.tags.has('global') ? 'global' : 'personal';
    const key = `${location}:${name}`;
    if (node.tags.has('once') && runtime.includedOnce.has(key)) return;
    if (runtime.includeStack.includes(key)) {
      throw new SieveRuntimeError(`include loop through script "${name}"`, node.position);
    }
    if (runtime.includeStack.length >= runtime.limits.maxIncludeDepth) {
      throw new SieveRuntimeError('include nested too deeply', node.position);
    }
    const source = runtime.env.loadScript?.(name, location) ?? null;
    if (source === null) {
      if (node.tags.has('optional')) return;
      throw new SieveRuntimeError(`included script "${name}" does not exist`, node.position);
    }
    let script;
    try {
      script = compileScript(source);
    } catch (error) {
      throw new SieveRuntimeError(
        `included script "${name}" does not compile: ${(error as Error).message}`,
        node.position,
      );
    }
    runtime.includedOnce.add(key);
    runtime.includeStack.push(key);
    try {
      if (runScriptIn(runtime, script) === 'stop') throw new StopSignal();
    } finally {
      runtime.includeStack.pop();
    }
  },
};

export const returnCommand: CommandDefinition = {
  kind: 'command',
  name: 'return',
  extensions: ['include'],
  positional: [],
  execute() {
    throw new ReturnSignal();
  },
};

export const global: CommandDefinition = {
  kind: 'command',
  name: 'global',
  extensions: ['include'],
  positional: ['string-list'],
  validate(node, context) {
    if (!context.extensions.has('variables')) {
      throw new SieveCompileError('global used without require "variables"', node.position);
    }
  },
  execute(node, runtime) {
    for (const name of runtime.strings(node.positional[0])) runtime.scope.globals.add(name.toLowerCase());
  },
};
