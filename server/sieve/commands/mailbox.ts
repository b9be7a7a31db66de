/** mailboxexists (RFC 5490) and specialuse_exists (RFC 8579): ask delivery about the user's mailboxes. */
import type { TestDefinition } from '../definition.ts';

export const mailboxexists: TestDefinition = {
  kind: 'test',
  name: 'mailboxexists',
  extensions: ['mailbox'],
  positional: ['string-list'],
  evaluate(node, runtime) {
    const exists = runtime.env.mailboxExists ?? (() => false);
    return runtime.strings(node.positional[0]).every((name) => exists(name));
  },
};

export const specialuseExists: TestDefinition = {
  kind: 'test',
  name: 'specialuse_exists',
  extensions: ['special-use'],
  positional: ['string-list', 'string-list'],
  optional: 1,
  evaluate(node, runtime) {
    const withMailbox = node.positional.length === 2;
    const mailbox = withMailbox ? runtime.string(node.positional[0]) : null;
    const flags = runtime.strings(node.positional[withMailbox ? 1 : 0]);
    return runtime.env.specialUseExists?.(mailbox, flags) ?? false;
  },
};
