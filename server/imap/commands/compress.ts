/** COMPRESS DEFLATE (RFC 4978): the OK goes out uncompressed, everything after it compressed. */
import type { CommandHandler } from '../context.ts';
import { bad, no } from '../errors.ts';
import type { CompressCommand } from '../parser/index.ts';

export const compress: CommandHandler<CompressCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    if (command.mechanism !== 'DEFLATE') throw bad(`Unknown compression mechanism ${command.mechanism}`);
    if (ctx.session.compressed) throw no('COMPRESSIONACTIVE', 'Compression is already active');
    return { text: 'DEFLATE active', after: () => ctx.startCompression() };
  },
};
