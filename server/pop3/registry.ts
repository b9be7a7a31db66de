/** Every POP3 command by keyword. Unknown keywords get `-ERR` from the connection. */
import type { CommandHandler } from './context.ts';
import { auth } from './commands/auth.ts';
import { capa } from './commands/capa.ts';
import { dele } from './commands/dele.ts';
import { list } from './commands/list.ts';
import { noop } from './commands/noop.ts';
import { pass } from './commands/pass.ts';
import { quit } from './commands/quit.ts';
import { retr } from './commands/retr.ts';
import { rset } from './commands/rset.ts';
import { stat } from './commands/stat.ts';
import { stls } from './commands/stls.ts';
import { top } from './commands/top.ts';
import { uidl } from './commands/uidl.ts';
import { user } from './commands/user.ts';

export const COMMANDS: Readonly<Record<string, CommandHandler>> = {
  AUTH: auth,
  CAPA: capa,
  DELE: dele,
  LIST: list,
  NOOP: noop,
  PASS: pass,
  QUIT: quit,
  RETR: retr,
  RSET: rset,
  STAT: stat,
  STLS: stls,
  TOP: top,
  UIDL: uidl,
  USER: user,
};
