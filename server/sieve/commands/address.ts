/**
 * The address test (RFC 5228 section 5.1): the addresses in the named header fields, or part of
 * them, against keys. Only address fields may be named (From, To, Cc, ...).
 */
import type { TestDefinition } from '../definition.ts';
import { SieveCompileError } from '../errors.ts';
import { ADDRESS_PART_TAGS, addressPart, INDEX_TAGS, selectIndex } from '../address-part.ts';
import { MATCH_TAGS, matchAny, matchOptions, validateMatch } from '../match.ts';
import type { Argument } from '../ast.ts';

export const ADDRESS_FIELDS = [
  'from',
  'sender',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'resent-from',
  'resent-sender',
  'resent-to',
  'resent-cc',
  'resent-bcc',
  'return-receipt-to',
  'disposition-notification-to',
  'errors-to',
  'delivered-to',
  'envelope-to',
  'x-original-to',
  'original-recipient',
];

export function constantStrings(argument: Argument | undefined): string[] | null {
  if (argument?.kind === 'string') return [argument.value];
  if (argument?.kind === 'string-list') return argument.values;
  return null;
}

export const address: TestDefinition = {
  kind: 'test',
  name: 'address',
  tags: { ...MATCH_TAGS, ...ADDRESS_PART_TAGS, ...INDEX_TAGS },
  positional: ['string-list', 'string-list'],
  validate(node, context) {
    for (const name of constantStrings(node.positional[0]) ?? []) {
      if (!name.includes('${') && !ADDRESS_FIELDS.includes(name.toLowerCase())) {
        throw new SieveCompileError(`address: "${name}" is not an address header field`, node.position);
      }
    }
    validateMatch(node, context, constantStrings(node.positional[1]));
  },
  evaluate(node, runtime) {
    const values: string[] = [];
    for (const name of runtime.strings(node.positional[0])) {
      for (const field of selectIndex(runtime, node, runtime.message.addresses(name))) {
        for (const one of field) {
          const part = addressPart(node, one);
          if (part !== null) values.push(part);
        }
      }
    }
    return matchAny(runtime, node, matchOptions(node), values, runtime.strings(node.positional[1]));
  },
};
