/** discard (RFC 5228 section 4.4): silently drops the message by cancelling the implicit keep. */
import type { CommandDefinition } from '../definition.ts';

export const discard: CommandDefinition = {
  kind: 'command',
  name: 'discard',
  positional: [],
  execute(node, runtime) {
    runtime.addAction({ type: 'discard' }, node);
    runtime.implicitKeep = false;
  },
};
