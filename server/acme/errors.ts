/** Errors of the ACME part, with a stable `code` the admin API and CLI map, and a message for users. */
export type AcmeErrorCode =
  'terms_not_accepted' | 'not_configured' | 'busy' | 'nothing_to_confirm' | 'no_certificate' | 'order_failed';

export class AcmeError extends Error {
  constructor(
    readonly code: AcmeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AcmeError';
  }
}
