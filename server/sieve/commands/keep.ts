/**
 * keep (RFC 5228 section 4.3): file into INBOX, with :flags (RFC 5232) or else the current value of
 * the internal flags variable. It cancels the implicit keep (it is now explicit).
 */
import type { CommandDefinition } from '../definition.ts';
import { flagList } from '../runtime.ts';

export const keep: CommandDefinition = {
  kind: 'command',
  name: 'keep',
  tags: { flags: { argument: 'string-list', extension: 'imap4flags' } },
  positional: [],
  execute(node, runtime) {
    const flags = node.tags.has('flags')
      ? flagList(runtime.strings(node.tags.get('flags')))
      : [...runtime.internalFlags];
    runtime.addAction({ type: 'keep', mailbox: 'INBOX', flags, create: false, specialUse: null }, node);
    runtime.implicitKeep = false;
  },
};
