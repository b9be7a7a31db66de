/**
 * IDLE (RFC 2177): updates are pushed as they happen (within the journal poll interval), with a
 * keep-alive every few minutes; DONE ends it. Works with or without a selected mailbox (Outlook
 * idles unselected). After imap.idle_max the connection ends with BYE, as the RFC allows.
 */
import type { CommandHandler } from '../context.ts';
import { bad } from '../errors.ts';

export const idle: CommandHandler = {
  states: ['authenticated', 'selected'],
  async run(ctx) {
    await ctx.write(Buffer.from('+ idling\r\n'));
    const line = await ctx.idle();
    if (line === null) {
      await ctx.bye('IDLE time limit reached, please reconnect');
      return;
    }
    if (line.toString('latin1').trim().toUpperCase() !== 'DONE') throw bad('Expected DONE to end IDLE');
    return { text: 'IDLE terminated' };
  },
};
