/**
 * CANCELUPDATE "tag" ... (CONTEXT=SEARCH, RFC 5267 4.2): the searches started by those tags with
 * RETURN (UPDATE) stop sending ADDTO/REMOVEFROM. A tag that names no updating search is a client
 * mistake: BAD, and none of the list is cancelled.
 */
import { requireView, type CommandHandler } from '../context.ts';
import { bad } from '../errors.ts';
import type { CancelUpdateCommand } from '../parser/index.ts';

export const cancelUpdate: CommandHandler<CancelUpdateCommand> = {
  states: ['selected'],
  async run(ctx, command) {
    const contexts = requireView(ctx).searchContexts;
    const unknown = command.tags.filter((tag) => !contexts.has(tag));
    if (unknown.length > 0) throw bad(`No updating search has the tag ${JSON.stringify(unknown[0])}`);
    for (const tag of command.tags) contexts.cancel(tag);
    return { text: 'Updates cancelled' };
  },
};
