/**
 * reject and ereject (RFC 5429): refuse the message with a reason. Both cancel the implicit keep and
 * cannot be combined with actions that deliver or answer the message.
 */
import type { CommandDefinition } from '../definition.ts';

function refusal(name: 'reject' | 'ereject'): CommandDefinition {
  return {
    kind: 'command',
    name,
    extensions: [name],
    positional: ['string'],
    execute(node, runtime) {
      runtime.addAction(
        { type: 'reject', reason: runtime.string(node.positional[0]), extended: name === 'ereject' },
        node,
      );
      runtime.implicitKeep = false;
    },
  };
}

export const reject = refusal('reject');
export const ereject = refusal('ereject');
