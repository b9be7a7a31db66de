/** NOOP and CHECK (RFC 3501 6.1.2, 6.4.1): nothing to do but report pending updates, which dispatch does. */
import type { CommandHandler } from '../context.ts';

export const noop: CommandHandler = {
  states: ['not-authenticated', 'authenticated', 'selected'],
  async run() {},
};

export const check: CommandHandler = {
  states: ['selected'],
  async run() {},
};
