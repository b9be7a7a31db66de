/** require (RFC 5228 section 3.2): capabilities, checked at compile time; nothing happens at run time. */
import type { CommandDefinition } from '../definition.ts';
import { SieveCompileError } from '../errors.ts';
import { SUPPORTED_EXTENSIONS } from '../extensions.ts';

export const require: CommandDefinition = {
  kind: 'command',
  name: 'require',
  positional: ['string-list'],
  validate(node, context) {
    if (!context.requireAllowed) {
      throw new SieveCompileError('require must come before every other command', node.position);
    }
    const argument = node.positional[0];
    const names =
      argument?.kind === 'string-list'
        ? argument.values
        : argument?.kind === 'string'
          ? [argument.value]
          : [];
    for (const name of names) {
      if (!SUPPORTED_EXTENSIONS.includes(name)) {
        throw new SieveCompileError(`unsupported extension "${name}"`, argument?.position ?? node.position);
      }
      context.extensions.add(name);
    }
  },
  execute() {},
};
