/**
 * fileinto (RFC 5228 section 4.1) with :copy (RFC 3894, keeps the implicit keep), :flags (RFC 5232),
 * :create (RFC 5490, make the mailbox when missing) and :specialuse (RFC 8579, file into the mailbox
 * that has this special use, the named one only when none has).
 */
import type { CommandDefinition } from '../definition.ts';
import { SieveCompileError } from '../errors.ts';
import { flagList } from '../runtime.ts';

export const fileinto: CommandDefinition = {
  kind: 'command',
  name: 'fileinto',
  extensions: ['fileinto'],
  tags: {
    copy: { extension: 'copy' },
    flags: { argument: 'string-list', extension: 'imap4flags' },
    create: { extension: 'mailbox' },
    specialuse: { argument: 'string', extension: 'special-use' },
  },
  positional: ['string'],
  validate(node) {
    const mailbox = node.positional[0];
    if (mailbox?.kind === 'string' && mailbox.value === '') {
      throw new SieveCompileError('fileinto needs a mailbox name', mailbox.position);
    }
  },
  execute(node, runtime) {
    const mailbox = runtime.string(node.positional[0]);
    const flags = node.tags.has('flags')
      ? flagList(runtime.strings(node.tags.get('flags')))
      : [...runtime.internalFlags];
    const specialUse = node.tags.has('specialuse') ? runtime.string(node.tags.get('specialuse')) : null;
    const create = node.tags.has('create');
    runtime.addAction({ type: 'fileinto', mailbox, flags, create, specialUse }, node);
    if (!node.tags.has('copy')) runtime.implicitKeep = false;
  },
};
