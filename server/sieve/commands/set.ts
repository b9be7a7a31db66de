/** set (RFC 5229 section 4): assigns a variable, with modifiers such as :lower or :length. */
import type { CommandDefinition, TagDefinition } from '../definition.ts';
import { SieveCompileError } from '../errors.ts';
import { SET_MODIFIERS } from '../variables.ts';

const MODIFIER_TAGS: Record<string, TagDefinition> = Object.fromEntries(
  Object.keys(SET_MODIFIERS).map((name) => [name, name === 'quoteregex' ? { extension: 'regex' } : {}]),
);

export const set: CommandDefinition = {
  kind: 'command',
  name: 'set',
  extensions: ['variables'],
  tags: MODIFIER_TAGS,
  positional: ['string', 'string'],
  validate(node) {
    const name = node.positional[0];
    if (name?.kind !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(name.value)) {
      throw new SieveCompileError('set: invalid variable name', name?.position ?? node.position);
    }
    if (/^[A-Za-z_][A-Za-z0-9_]*\./.test(name.value) && !name.value.toLowerCase().startsWith('global.')) {
      throw new SieveCompileError(
        `set: unknown variable namespace in ${JSON.stringify(name.value)}`,
        name.position,
      );
    }
    const precedences = [...node.tags.keys()].map((tag) => SET_MODIFIERS[tag]?.precedence);
    if (new Set(precedences).size !== precedences.length) {
      throw new SieveCompileError('set: two modifiers of the same precedence', node.position);
    }
  },
  execute(node, runtime) {
    const name = node.positional[0]?.kind === 'string' ? node.positional[0].value : '';
    let value = runtime.string(node.positional[1]);
    const modifiers = [...node.tags.keys()]
      .map((tag) => SET_MODIFIERS[tag])
      .filter((modifier) => modifier !== undefined)
      .sort((a, b) => b.precedence - a.precedence);
    for (const modifier of modifiers) value = modifier.apply(value);
    runtime.setVariable(name, value);
  },
};
