/**
 * redirect (RFC 5228 section 4.2) with :copy (RFC 3894). The address must be a plain mailbox; the
 * number of redirects per message is limited (a runtime error past the limit).
 */
import type { CommandDefinition } from '../definition.ts';
import { SieveCompileError, SieveRuntimeError } from '../errors.ts';

const MAILBOX = /^[^\s@<>(),;:"[\]]+@[A-Za-z0-9.-]+$/;

export const redirect: CommandDefinition = {
  kind: 'command',
  name: 'redirect',
  tags: { copy: { extension: 'copy' } },
  positional: ['string'],
  validate(node, context) {
    const address = node.positional[0];
    if (
      address?.kind === 'string' &&
      !(context.extensions.has('variables') && address.value.includes('${'))
    ) {
      if (!MAILBOX.test(address.value.trim())) {
        throw new SieveCompileError(
          `invalid redirect address ${JSON.stringify(address.value)}`,
          address.position,
        );
      }
    }
  },
  execute(node, runtime) {
    const address = runtime.string(node.positional[0]).trim();
    if (!MAILBOX.test(address)) {
      throw new SieveRuntimeError(`invalid redirect address ${JSON.stringify(address)}`, node.position);
    }
    runtime.addAction({ type: 'redirect', address }, node);
    if (!node.tags.has('copy')) runtime.implicitKeep = false;
  },
};
