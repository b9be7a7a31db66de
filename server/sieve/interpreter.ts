/**
 * Runs a compiled script: control flow (if/elsif/else, stop, include/return), tests through their
 * definitions, and the implicit keep of RFC 5228 section 2.10.2: it happens unless an action that
 * cancels it ran (fileinto and redirect without :copy, discard, reject, ereject). A runtime error
 * anywhere throws the collected actions away: the result is the implicit keep with the error.
 */
import type { SieveResult } from './actions.ts';
import type { CommandNode, TestNode } from './ast.ts';
import { SieveRuntimeError } from './errors.ts';
import { commandDefinition, testDefinition } from './registry.ts';
import { ReturnSignal, Runtime, StopSignal, type SieveEnvironment } from './runtime.ts';
import type { CompiledScript } from './script.ts';

export function runScripts(scripts: CompiledScript[], env: SieveEnvironment): SieveResult {
  const runtime = new Runtime(env);
  try {
    for (const script of scripts) {
      // An admin script that says "stop" ends the whole run, as Pigeonhole's sieve_before does.
      if (runScriptIn(runtime, script) === 'stop') break;
    }
  } catch (error) {
    if (!(error instanceof SieveRuntimeError)) throw error;
    return {
      actions: [],
      implicitKeep: { flags: [] },
      error: error.message,
      headerEdited: false,
      duplicates: [],
    };
  }
  return {
    actions: runtime.actions,
    implicitKeep: runtime.implicitKeep ? { flags: [...runtime.internalFlags] } : null,
    error: null,
    headerEdited: runtime.headerEdited,
    duplicates: runtime.duplicates,
  };
}

/** Runs one script in a scope of its own; "stop" when the script stopped. */
export function runScriptIn(runtime: Runtime, script: CompiledScript): 'stop' | 'end' {
  const outer = runtime.scope;
  runtime.scope = { extensions: script.extensions, variables: new Map(), globals: new Set() };
  try {
    runBlock(runtime, script.commands);
    return 'end';
  } catch (signal) {
    if (signal instanceof StopSignal) return 'stop';
    if (signal instanceof ReturnSignal) return 'end';
    throw signal;
  } finally {
    runtime.scope = outer;
  }
}

export function runBlock(runtime: Runtime, commands: CommandNode[]): void {
  let branchTaken = false;
  for (const command of commands) {
    runtime.step();
    switch (command.name) {
      case 'if':
        branchTaken = evaluate(runtime, command.tests[0] as TestNode);
        if (branchTaken) runBlock(runtime, command.block ?? []);
        break;
      case 'elsif':
        if (branchTaken) break;
        branchTaken = evaluate(runtime, command.tests[0] as TestNode);
        if (branchTaken) runBlock(runtime, command.block ?? []);
        break;
      case 'else':
        if (!branchTaken) runBlock(runtime, command.block ?? []);
        branchTaken = true;
        break;
      default: {
        const definition = commandDefinition(command.name);
        if (definition === undefined)
          throw new SieveRuntimeError(`unknown command ${command.name}`, command.position);
        definition.execute(command, runtime);
      }
    }
  }
}

export function evaluate(runtime: Runtime, test: TestNode): boolean {
  runtime.step();
  const definition = testDefinition(test.name);
  if (definition === undefined) throw new SieveRuntimeError(`unknown test ${test.name}`, test.position);
  return definition.evaluate(test, runtime);
}
