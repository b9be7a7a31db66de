/**
 * Exit codes of the `mallard` command. Delivery follows sendmail's sysexits so MTAs and scripts
 * know whether to retry.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 64, // EX_USAGE
  dataError: 65, // EX_DATAERR
  noUser: 67, // EX_NOUSER: unknown recipient or account
  noInput: 66, // EX_NOINPUT: an input file cannot be read
  software: 70, // EX_SOFTWARE
  cantCreate: 73, // EX_CANTCREAT: an output file cannot be written
  tempFail: 75, // EX_TEMPFAIL: try again later
  noPerm: 77, // EX_NOPERM: the admin API refused the token
  config: 78, // EX_CONFIG
} as const;

/** A failure meant for the person at the terminal: printed to stderr as is, then exit with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string, usage: string): CliError {
  return new CliError(`${message}\nusage: ${usage}`, EXIT.usage);
}
