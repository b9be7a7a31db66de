/**
 * setflag, addflag, removeflag (RFC 5232 section 5): change the internal flags variable, or a named
 * variable when the script uses variables and gives one first.
 */
import type { CommandDefinition } from '../definition.ts';
import { SieveCompileError } from '../errors.ts';
import { flagList, hasFlag, type Runtime } from '../runtime.ts';
import type { CommandNode } from '../ast.ts';

type Change = (current: string[], given: string[]) => string[];

function read(runtime: Runtime, variable: string | null): string[] {
  return variable === null ? runtime.internalFlags : flagList([runtime.getVariable(variable)]);
}

function write(runtime: Runtime, variable: string | null, flags: string[]): void {
  if (variable === null) runtime.internalFlags = flags;
  else runtime.setVariable(variable, flags.join(' '));
}

function flagCommand(name: string, change: Change): CommandDefinition {
  return {
    kind: 'command',
    name,
    extensions: ['imap4flags'],
    positional: ['string-list', 'string-list'],
    optional: 1,
    validate(node) {
      const first = node.positional[0];
      if (node.positional.length !== 2) return;
      if (first?.kind !== 'string') {
        throw new SieveCompileError(`${name}: the variable name must be a string`, node.position);
      }
      if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(first.value)) {
        throw new SieveCompileError(
          `${name}: invalid variable name ${JSON.stringify(first.value)}`,
          first.position,
        );
      }
    },
    execute(node: CommandNode, runtime) {
      const withVariable = node.positional.length === 2;
      const variable =
        withVariable && node.positional[0]?.kind === 'string' ? node.positional[0].value : null;
      const given = flagList(runtime.strings(node.positional[withVariable ? 1 : 0]));
      write(runtime, variable, change(read(runtime, variable), given));
    },
  };
}

export const setflag = flagCommand('setflag', (_current, given) => given);
export const addflag = flagCommand('addflag', (current, given) => flagList([...current, ...given]));
export const removeflag = flagCommand('removeflag', (current, given) =>
  current.filter((flag) => !hasFlag(given, flag)),
);
