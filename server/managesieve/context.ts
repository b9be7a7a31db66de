/**
 * What a ManageSieve command handler sees: the session's state, the services, and the few
 * connection operations some commands need (SASL continuations, STARTTLS, logging in and out).
 * Handlers are `run(ctx, command)` functions in commands/, one per file; they return the reply and
 * throw `ManageSieveError` for `NO` (or `BYE` when fatal).
 */
import type { SessionRegistry } from '../admin/sessions.ts';
import type { Guard } from '../auth/login-guard.ts';
import type { Config } from '../config/schema.ts';
import type { ConnectionHooks, ConnectionSession } from '../hooks/types.ts';
import type { Logger } from '../log.ts';
import type { Gate } from '../net/connection-gate.ts';
import type { Store, User } from '../store/types.ts';
import type { ResponseCode } from './encoder.ts';
import type { ManageSieveCommand } from './parser.ts';

/** RFC 5804 has two states: before and after AUTHENTICATE. */
export type SessionState = 'unauthenticated' | 'authenticated';

/** The services ManageSieve needs; the object IMAP and POP3 get satisfies it. */
export interface ManageSieveServices {
  config: Config;
  store: Store;
  hooks: ConnectionHooks;
  /** Password guessing: per-address lockout, per-account slow-down (shared with IMAP and POP3). */
  guard: Guard;
  logger: Logger;
  /** The admin API's registry of live sessions (absent: nothing is reported). */
  sessions?: SessionRegistry;
  /** Connection limits and the pre-login deadline, shared by every protocol (absent: none). */
  gate?: Gate;
}

export interface ManageSieveSession {
  readonly id: string;
  state: SessionState;
  user: User | null;
  readonly secure: boolean;
  /** From loopback, where passwords without TLS are allowed (unless configured otherwise). */
  readonly loopback: boolean;
  readonly connection: ConnectionSession;
}

/** A successful reply: data lines (already encoded) and then `OK`. */
export interface Reply {
  /** Encoded lines sent before the OK (LISTSCRIPTS, GETSCRIPT, CAPABILITY), each with its CRLF. */
  body?: string;
  text?: string;
  code?: ResponseCode;
  /** Runs after the reply is written (STARTTLS starts the handshake then). */
  after?: () => Promise<void> | void;
  /** Close the connection after the reply (LOGOUT). */
  close?: boolean;
}

export interface ManageSieveContext {
  readonly session: ManageSieveSession;
  readonly services: ManageSieveServices;
  readonly log: Logger;
  /**
   * Sends a SASL challenge (a base64 string) and reads the client's answer: the string it sent, or
   * null when it hung up.
   */
  challenge(prompt: string): Promise<string | null>;
  /** Turns on TLS on this connection, after the OK has been written. */
  startTls(): Promise<void>;
  /** Enters the authenticated state for this user. */
  login(user: User): void;
  /** Back to the unauthenticated state (UNAUTHENTICATE). */
  logout(): void;
  /** The capability lines for the current state, encoded. */
  capabilities(): string;
}

export interface CommandHandler {
  /** States the command is allowed in. */
  states: ReadonlyArray<SessionState>;
  run(ctx: ManageSieveContext, command: ManageSieveCommand): Promise<Reply>;
}
