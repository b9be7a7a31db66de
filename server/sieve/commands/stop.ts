/** stop (RFC 5228 section 3.3): ends the script; the implicit keep still applies if not cancelled. */
import type { CommandDefinition } from '../definition.ts';
import { StopSignal } from '../runtime.ts';

export const stop: CommandDefinition = {
  kind: 'command',
  name: 'stop',
  positional: [],
  execute() {
    throw new StopSignal();
  },
};
