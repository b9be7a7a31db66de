/**
 * Errors of the Sieve interpreter. A script that does not compile gets every problem found with its
 * line and column (what `mallard sieve check` and ManageSieve's CHECKSCRIPT show); a script that
 * fails while running gets one runtime error, after which delivery falls back to the implicit keep.
 */
export interface SourcePosition {
  line: number;
  column: number;
}

export class SieveCompileError extends Error {
  constructor(
    message: string,
    readonly position: SourcePosition,
  ) {
    super(`line ${position.line}, column ${position.column}: ${message}`);
    this.name = 'SieveCompileError';
  }
}

/** Thrown when a script's run is cut off or hits an impossible situation; the message never is lost. */
export class SieveRuntimeError extends Error {
  constructor(
    message: string,
    readonly position?: SourcePosition,
  ) {
    super(position === undefined ? message : `line ${position.line}: ${message}`);
    this.name = 'SieveRuntimeError';
  }
}
