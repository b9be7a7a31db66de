/**
 * SMTP/LMTP replies with RFC 3463 enhanced status codes, the mapping from store errors to them,
 * and SMTP's single reply after DATA. A reply's text starts with its enhanced code
 * ("5.1.1 <a@b>: User unknown"); the engine sends such texts as they are instead of letting
 * smtp-server add its own, generic, code (see engine.ts).
 */
import crypto from 'node:crypto';
import { isStoreError } from '../store/errors.ts';
import type { Logger } from '../log.ts';

export interface Reply {
  /** Basic reply code (250, 451, 550, ...). */
  code: number;
  /** Enhanced status code (RFC 3463), e.g. "5.2.2". */
  status: string;
  /** Human-readable text, without the codes. */
  text: string;
}

/** What became of one recipient after DATA. */
export type RecipientOutcome =
  | { ok: true; address: string; uid: number }
  | { ok: false; address: string; temporary: boolean; reply: Reply };

/** A failed delivery: whether to try again later, and the reply naming a recipient. */
export interface Failure {
  temporary: boolean;
  reply(address: string): Reply;
}

export function reply(code: number, status: string, text: string): Reply {
  return { code, status, text };
}

/** The reply text smtp-server sends after the basic code: "5.2.2 <a@b>: Mailbox full". */
export function replyText(value: Reply): string {
  return `${value.status} ${value.text}`;
}

/** An error for smtp-server's callbacks: it sends `responseCode` and `message`. */
export function replyError(value: Reply): Error & { responseCode: number } {
  return Object.assign(new Error(replyText(value)), { responseCode: value.code });
}

export const unknownUser = (address: string) => reply(550, '5.1.1', `<${address}>: User unknown`);
export const relayDenied = (address: string) => reply(550, '5.7.1', `<${address}>: Relay access denied`);
export const mailboxDisabled = (address: string) => reply(550, '5.2.1', `<${address}>: Mailbox disabled`);
/** RFC 3463 X.2.2 "mailbox full"; 552 as RFC 5321 has it for exceeded storage allocation. */
export const mailboxFull = (address: string) => reply(552, '5.2.2', `<${address}>: Mailbox full`);
/** Greylisting (RFC 6647 says 4.7.1 or 4.2.0; 4.7.1 with a retry hint is what Postgrey sends). */
export const greylisted = (seconds: number) =>
  reply(451, '4.7.1', `Greylisted, please try again in ${seconds} seconds`);
/** inbound.bare_lf: refuse (RFC 5321 2.3.8: lines end with CRLF; 5.6.0 as Postfix's "normalize" does not). */
export const bareLineFeed = reply(554, '5.6.0', 'Message refused: bare LF line ends (RFC 5321 2.3.8)');
export const messageRefused = (address: string) => reply(554, '5.6.0', `<${address}>: Message refused`);

/**
 * A temporary failure: the store is unavailable or something unexpected went wrong. The details
 * stay in the log under a reference that the reply carries.
 */
export function temporaryFailure(
  log: Logger,
  error: unknown,
  context: Record<string, unknown>,
  address?: string,
): Reply {
  return temporaryFailureOf(log, error, context).reply(address ?? '');
}

function temporaryFailureOf(log: Logger, error: unknown, context: Record<string, unknown>): Failure {
  const ref = crypto.randomBytes(4).toString('hex');
  if (isStoreError(error, 'UNAVAILABLE')) log.warn({ err: error, ref, ...context }, 'store unavailable');
  else log.error({ err: error, ref, ...context }, 'delivery failed unexpectedly');
  const text = `Temporary local problem, please try again later (ref ${ref})`;
  return {
    temporary: true,
    reply: (address) => reply(451, '4.3.0', address ? `<${address}>: ${text}` : text),
  };
}

/** Maps an error of store.deliver() to the failure for its recipients. */
export function classifyDeliveryError(
  log: Logger,
  error: unknown,
  context: Record<string, unknown>,
): Failure {
  if (isStoreError(error)) {
    switch (error.code) {
      case 'OVERQUOTA':
        return { temporary: false, reply: mailboxFull };
      case 'NONEXISTENT':
        return { temporary: false, reply: unknownUser };
      case 'CANNOT':
        return { temporary: false, reply: mailboxDisabled };
      case 'INVALID':
        log.warn({ err: error, ...context }, 'message refused by the store');
        return { temporary: false, reply: messageRefused };
      case 'ALREADYEXISTS':
      case 'LIMIT':
      case 'UNAVAILABLE':
        break;
    }
  }
  return temporaryFailureOf(log, error, context);
}

/**
 * SMTP has one reply after DATA for all recipients, and Mallard has no queue to retry from or
 * bounces to send, so:
 * - every delivery succeeded: 250;
 * - any failed temporarily: 451, so the sending MTA (which has a queue) retries the message. The
 *   recipients that did get it may get it twice: a duplicate is better than a lost message. In
 *   practice a temporary failure (store unavailable) hits all recipients alike;
 * - none succeeded, all failed permanently: the first failure (e.g. 552 5.2.2), so the sender bounces;
 * - some succeeded and the others failed permanently: 250, and the failures are logged. Rejecting
 *   would bounce the message for recipients who have it. This is rare: over-quota and unknown
 *   recipients are refused at RCPT already (quota against MAIL FROM SIZE= when the client declares
 *   it, as MTAs do), so only a quota crossed by this very message or a user removed between RCPT and
 *   DATA lands here.
 */
export function singleReply(outcomes: RecipientOutcome[], transactionId: string): Reply {
  const failures = outcomes.filter((outcome) => !outcome.ok);
  const temporary = failures.find((outcome) => outcome.temporary);
  if (temporary) return { ...temporary.reply, text: temporary.reply.text.replace(/^<[^>]*>: /, '') };
  if (failures.length > 0 && failures.length === outcomes.length) return failures[0]!.reply;
  return reply(250, '2.0.0', `Ok: delivered as ${transactionId}`);
}
