/**
 * What a command handler sees: the session's state, the services, and the few connection
 * operations some commands need (reading continuation lines, STARTTLS, COMPRESS). Handlers are
 * `run(ctx, command)` functions in commands/, one per file.
 */
import type { Config } from '../config/schema.ts';
import type { SessionRegistry } from '../admin/sessions.ts';
import type { Guard } from '../auth/login-guard.ts';
import type { ConnectionHooks, ConnectionSession } from '../hooks/types.ts';
import type { Logger } from '../log.ts';
import type { Gate } from '../net/connection-gate.ts';
import type { UserSessionLimit } from '../net/user-sessions.ts';
import type { JunkMove } from '../spam/learning.ts';
import type { JournalFollower } from '../store/follower.ts';
import type { Store, User } from '../store/types.ts';
import type { ResponseBuilder } from './encoder/index.ts';
import { bad } from './errors.ts';
import type { MailboxStates } from './mailbox-state.ts';
import type { MailboxView } from './mailbox-view.ts';
import type { Notifier } from './notify.ts';
import type { ParsePool } from './offload/pool.ts';
import type { ParsedCommand } from './parser/index.ts';

export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

export interface ImapServices {
  config: Config;
  store: Store;
  follower: JournalFollower;
  hooks: ConnectionHooks;
  /** Password guessing: per-address lockout, per-account slow-down (shared with POP3). */
  guard: Guard;
  logger: Logger;
  /** The per-user connection limit (one counter for the whole server, across worker processes). */
  userSessions: UserSessionLimit;
  /** Selected mailboxes' messages, shared by the sessions that have them selected. */
  mailboxStates: MailboxStates;
  /** The admin API's registry of live sessions (absent: nothing is reported). */
  sessions?: SessionRegistry;
  /** Connection limits and the pre-login deadline, shared by every protocol (absent: none). */
  gate?: Gate;
  /** Worker threads for the CPU-heavy work on big messages (absent: done inline). */
  parsePool?: ParsePool;
  /** Learns spam and ham from COPY/MOVE into and out of Junk (server/spam/learning.ts; absent: off). */
  spamLearner?: { observe(move: JunkMove): void };
}

export interface ImapSession {
  readonly id: string;
  state: SessionState;
  user: User | null;
  view: MailboxView | null;
  /** Extensions the client turned on with ENABLE (or implicitly, e.g. CONDSTORE by a MODSEQ fetch). */
  readonly enabled: Set<string>;
  /** The client's ID parameters, when it sent them. */
  clientId: Record<string, string | null> | null;
  /** The NOTIFY settings and waiting notifications (RFC 5465); null until NOTIFY SET or NONE. */
  notifier: Notifier | null;
  readonly secure: boolean;
  readonly loopback: boolean;
  readonly compressed: boolean;
  readonly connection: ConnectionSession;
}

/** What a successful command adds to its tagged OK. */
export interface CommandOutcome {
  code?: string | null;
  text?: string;
  /** Runs after the tagged OK is written (STARTTLS and COMPRESS switch the stream only then). */
  after?: () => Promise<void> | void;
}

export interface ImapContext {
  readonly session: ImapSession;
  readonly services: ImapServices;
  readonly log: Logger;
  /** A response builder with this session's encoding options (UTF8=ACCEPT). */
  builder(): ResponseBuilder;
  /** Sends bytes; resolves when the socket can take more (backpressure for large FETCHes). */
  write(data: Buffer | ResponseBuilder): Promise<void>;
  /** Reads one raw line from the client (AUTHENTICATE continuations, DONE); null when it hung up. */
  readLine(): Promise<Buffer | null>;
  /** Turns on TLS on this connection, after the tagged OK has been written. */
  startTls(): Promise<void>;
  /** Turns on DEFLATE in both directions, after the tagged OK has been written. */
  startCompression(): void;
  /** Reports pending mailbox changes now (for NOOP, IDLE, and after commands). */
  flushUpdates(allowExpunge: boolean): Promise<void>;
  /** Marks the session as authenticated (checks the per-user limit; throws ImapError when over). */
  login(user: User): Promise<void>;
  /**
   * Back to the not-authenticated state (UNAUTHENTICATE): the mailbox closed without expunging,
   * the user's journal and connection slot let go, ENABLEd extensions off. TLS and COMPRESS stay.
   */
  unauthenticate(): void;
  /** Ends the connection after the current response. */
  closeAfterResponse(): void;
  /** The capability list for the current state. */
  capabilities(): string[];
  /** Resolves when the client sends a line (IDLE's DONE); null when IDLE's time ran out or the client left. */
  idle(): Promise<Buffer | null>;
  /** Sends `* BYE text` and closes the connection. */
  bye(text: string): Promise<void>;
}

export interface CommandHandler<C extends ParsedCommand = ParsedCommand> {
  /** States the command is allowed in. */
  states: ReadonlyArray<Exclude<SessionState, 'logout'>>;
  /**
   * False for commands that work by sequence number and must not see EXPUNGE responses (FETCH,
   * STORE, SEARCH without UID: RFC 3501 7.4.1). Decided per command instance.
   */
  allowsExpunge?(command: C): boolean;
  run(ctx: ImapContext, command: C): Promise<CommandOutcome | void>;
}

/** The selected mailbox's view, for a handler of the selected state; BAD when none is selected. */
export function requireView(ctx: ImapContext): MailboxView {
  const view = ctx.session.view;
  if (view === null) throw bad('No mailbox selected');
  return view;
}
