/**
 * Parse errors. `parseCommand` never throws on bad input: it returns a ParseError, which the
 * connection turns into `TAG BAD <message>` (or `* BAD <message>` when `tag` is null), except for
 * `bad-charset`, answered `TAG NO [BADCHARSET (UTF-8 US-ASCII)] <message>`.
 */

export type ParseErrorKind =
  /** Malformed command or arguments. */
  | 'syntax'
  /** The command name (or `UID <name>`) is not one we know. */
  | 'unknown-command'
  /** SEARCH with a CHARSET other than UTF-8 / US-ASCII. */
  | 'bad-charset'
  /** An empty line (the connection may ignore it or answer `* BAD`). */
  | 'empty';

export class ParseError {
  constructor(
    readonly kind: ParseErrorKind,
    /** The command's tag when it could be read; null means answer with `* BAD`. */
    readonly tag: string | null,
    /** The upper-cased command name when it could be read (`UID FETCH` for UID commands). */
    readonly command: string | null,
    /** Human-readable, safe to send to the client (no CR/LF). */
    readonly message: string,
    /** For `bad-charset`: the charset the client asked for. */
    readonly charset?: string,
  ) {}
}

export function isParseError(value: unknown): value is ParseError {
  return value instanceof ParseError;
}

/** Thrown inside the parser, caught by its entry points and turned into a ParseError. */
export class ParseFailure extends Error {
  constructor(
    message: string,
    readonly kind: ParseErrorKind = 'syntax',
    readonly charset?: string,
  ) {
    super(message);
    this.name = 'ParseFailure';
  }
}

export function fail(message: string, kind: ParseErrorKind = 'syntax', charset?: string): never {
  throw new ParseFailure(message, kind, charset);
}
