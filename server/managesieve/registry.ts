/** Every ManageSieve command by name (RFC 5804 2). Unknown names get `NO` from the connection. */
import { authenticate } from './commands/authenticate.ts';
import { capability } from './commands/capability.ts';
import { checkscript } from './commands/checkscript.ts';
import { deletescript } from './commands/deletescript.ts';
import { getscript } from './commands/getscript.ts';
import { havespace } from './commands/havespace.ts';
import { listscripts } from './commands/listscripts.ts';
import { logout } from './commands/logout.ts';
import { noop } from './commands/noop.ts';
import { putscript } from './commands/putscript.ts';
import { renamescript } from './commands/renamescript.ts';
import { setactive } from './commands/setactive.ts';
import { starttls } from './commands/starttls.ts';
import { unauthenticate } from './commands/unauthenticate.ts';
import type { CommandHandler } from './context.ts';

export const COMMANDS: Readonly<Record<string, CommandHandler>> = {
  AUTHENTICATE: authenticate,
  CAPABILITY: capability,
  CHECKSCRIPT: checkscript,
  DELETESCRIPT: deletescript,
  GETSCRIPT: getscript,
  HAVESPACE: havespace,
  LISTSCRIPTS: listscripts,
  LOGOUT: logout,
  NOOP: noop,
  PUTSCRIPT: putscript,
  RENAMESCRIPT: renamescript,
  SETACTIVE: setactive,
  STARTTLS: starttls,
  UNAUTHENTICATE: unauthenticate,
};
