/**
 * What a POP3 command handler sees: the session's state, the services, and the few connection
 * operations some commands need (continuation lines for AUTH, STLS, entering the TRANSACTION
 * state). Handlers are `run(ctx, command)` functions in commands/, one per file; they return the
 * reply and throw `Pop3Error` for `-ERR`.
 */
import type { SessionRegistry } from '../admin/sessions.ts';
import type { Guard } from '../auth/login-guard.ts';
import type { Config } from '../config/schema.ts';
import type { ConnectionHooks, ConnectionSession } from '../hooks/types.ts';
import type { Logger } from '../log.ts';
import type { Gate } from '../net/connection-gate.ts';
import type { Store, User } from '../store/types.ts';
import type { Maildrop } from './maildrop.ts';
import type { Pop3Command } from './parser.ts';

/** RFC 1939 states; UPDATE is the QUIT handler's commit, not a state commands see. */
export type SessionState = 'authorization' | 'transaction';

/**
 * The services POP3 needs. The object IMAP gets (`ImapServices`) satisfies it, so one services
 * object serves both protocols.
 */
export interface Pop3Services {
  config: Config;
  store: Store;
  hooks: ConnectionHooks;
  /** Password guessing: per-address lockout, per-account slow-down (shared with IMAP). */
  guard: Guard;
  logger: Logger;
  /** The admin API's registry of live sessions (absent: nothing is reported). */
  sessions?: SessionRegistry;
  /** Connection limits and the pre-login deadline, shared by every protocol (absent: none). */
  gate?: Gate;
}

export interface Pop3Session {
  readonly id: string;
  state: SessionState;
  /** The name given by USER, waiting for PASS. */
  pendingUser: string | null;
  user: User | null;
  maildrop: Maildrop | null;
  readonly secure: boolean;
  readonly loopback: boolean;
  readonly connection: ConnectionSession;
}

/** A positive reply: `+OK text`, then for a multi-line reply its lines or a message, then ".". */
export interface Pop3Reply {
  text: string;
  /** Lines of a multi-line reply (dot-stuffed and terminated by the connection). */
  lines?: Iterable<string>;
  /** A message (RETR, TOP): sent with CRLF line ends, dot-stuffed, terminated. */
  message?: { raw: Buffer; bodyLines?: number };
  /** Runs after the reply is written (STLS starts the handshake then). */
  after?: () => Promise<void> | void;
  /** Close the connection after the reply (QUIT). */
  close?: boolean;
}

export interface Pop3Context {
  readonly session: Pop3Session;
  readonly services: Pop3Services;
  readonly log: Logger;
  /** Sends a continuation (`+ base64`) and reads the client's answer; null when it hung up. */
  challenge(prompt: string): Promise<string | null>;
  /** Turns on TLS on this connection, after the +OK has been written. */
  startTls(): Promise<void>;
  /**
   * Enters the TRANSACTION state for this user: takes the maildrop lock, a store lease shared by
   * every server process (throws [IN-USE] when another session holds it, [SYS/TEMP] when the
   * store cannot say) and takes the maildrop snapshot.
   */
  enterTransaction(user: User): Promise<void>;
  /** The CAPA lines for the current state. */
  capabilities(): string[];
}

export interface CommandHandler {
  /** States the command is allowed in. */
  states: ReadonlyArray<SessionState>;
  run(ctx: Pop3Context, command: Pop3Command): Promise<Pop3Reply>;
}
