/** Every IMAP command, by the name the parser gives it, mapped to its handler (one file each). */
import type { CommandHandler } from './context.ts';
import type { CommandName } from './parser/index.ts';
import { append } from './commands/append.ts';
import { authenticate } from './commands/authenticate.ts';
import { cancelUpdate } from './commands/cancelupdate.ts';
import { capability } from './commands/capability.ts';
import { compress } from './commands/compress.ts';
import { copy, move } from './commands/copy.ts';
import { create } from './commands/create.ts';
import { deleteMailbox } from './commands/delete.ts';
import { enable } from './commands/enable.ts';
import { expunge } from './commands/expunge.ts';
import { fetch } from './commands/fetch.ts';
import { id } from './commands/id.ts';
import { idle } from './commands/idle.ts';
import { list, lsub } from './commands/list.ts';
import { login } from './commands/login.ts';
import { genUrlAuth } from './commands/genurlauth.ts';
import { getMetadata, setMetadata } from './commands/metadata.ts';
import { logout } from './commands/logout.ts';
import { namespace } from './commands/namespace.ts';
import { notify } from './commands/notify.ts';
import { check, noop } from './commands/noop.ts';
import { getQuota, getQuotaRoot, setQuota } from './commands/quota.ts';
import { rename } from './commands/rename.ts';
import { replace } from './commands/replace.ts';
import { resetKey } from './commands/resetkey.ts';
import { search } from './commands/search.ts';
import { select } from './commands/select.ts';
import { sort } from './commands/sort.ts';
import { starttls } from './commands/starttls.ts';
import { status } from './commands/status.ts';
import { storeFlags } from './commands/store.ts';
import { subscribe, unsubscribe } from './commands/subscribe.ts';
import { thread } from './commands/thread.ts';
import { unauthenticate } from './commands/unauthenticate.ts';
import { close, unselect } from './commands/unselect.ts';
import { urlFetch } from './commands/urlfetch.ts';

export const COMMANDS: Record<CommandName, CommandHandler<never>> = {
  CAPABILITY: capability,
  NOOP: noop,
  LOGOUT: logout,
  STARTTLS: starttls,
  AUTHENTICATE: authenticate,
  LOGIN: login,
  ID: id,
  ENABLE: enable,
  COMPRESS: compress,
  NAMESPACE: namespace,
  SELECT: select,
  EXAMINE: select,
  CREATE: create,
  DELETE: deleteMailbox,
  RENAME: rename,
  SUBSCRIBE: subscribe,
  UNSUBSCRIBE: unsubscribe,
  LIST: list,
  LSUB: lsub,
  XLIST: lsub,
  STATUS: status,
  APPEND: append,
  REPLACE: replace,
  CHECK: check,
  CLOSE: close,
  UNSELECT: unselect,
  UNAUTHENTICATE: unauthenticate,
  EXPUNGE: expunge,
  SEARCH: search,
  SORT: sort,
  CANCELUPDATE: cancelUpdate,
  THREAD: thread,
  FETCH: fetch,
  STORE: storeFlags,
  COPY: copy,
  MOVE: move,
  IDLE: idle,
  GETQUOTA: getQuota,
  GETQUOTAROOT: getQuotaRoot,
  SETQUOTA: setQuota,
  GETMETADATA: getMetadata,
  SETMETADATA: setMetadata,
  NOTIFY: notify,
  GENURLAUTH: genUrlAuth,
  RESETKEY: resetKey,
  URLFETCH: urlFetch,
};
