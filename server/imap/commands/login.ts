/** LOGIN (RFC 3501 6.2.3). */
import { loginWithPassword } from '../auth-flow.ts';
import type { CommandHandler } from '../context.ts';
import type { LoginCommand } from '../parser/index.ts';

export const login: CommandHandler<LoginCommand> = {
  states: ['not-authenticated'],
  run: (ctx, command) => loginWithPassword(ctx, command.username, command.password),
};
