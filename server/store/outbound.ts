/**
 * The outbound queue's part of the store contract (Store.enqueueOutbound and friends): the types
 * both engines keep, and the checks and rules they share so they cannot drift apart.
 *
 * A queued message holds its raw bytes once and one entry per recipient, each with a state of its
 * own: a message to three domains may be delivered to one, deferred for another and bounced for
 * the third. A delivery worker takes a message with a lease (one worker at a time, across
 * processes) and records each recipient's result as soon as the remote side answered, so a
 * recipient whose delivery was acknowledged is never tried again, even when the worker is killed
 * right after.
 */
import crypto from 'node:crypto';
import { StoreError } from './errors.ts';

export type OutboundState = 'queued' | 'deferred' | 'delivered' | 'bounced';

export const OUTBOUND_STATES: readonly OutboundState[] = ['queued', 'deferred', 'delivered', 'bounced'];

/** RFC 3461 NOTIFY values; NEVER stands alone. */
export type DsnNotify = 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY';
export const DSN_NOTIFY: readonly DsnNotify[] = ['NEVER', 'SUCCESS', 'FAILURE', 'DELAY'];

/** What the submitting client asked of delivery reports for one recipient (RCPT TO parameters). */
export interface RecipientDsn {
  /** NOTIFY; null when not given (then: failure and delay reports, no success report). */
  notify: DsnNotify[] | null;
  /** ORCPT as given, "addr-type;address" (xtext decoded), or null. */
  orcpt: string | null;
}

/** MAIL FROM's RFC 3461 parameters. */
export interface MessageDsn {
  /** RET: FULL returns the whole message in a failure report, HDRS (and the default) its header. */
  ret: 'FULL' | 'HDRS' | null;
  /** ENVID, the client's own id for the transaction, echoed in every report. */
  envid: string | null;
}

export interface OutboundRecipient extends RecipientDsn {
  /** As the client gave it at RCPT TO (case kept: local parts are case-sensitive elsewhere). */
  address: string;
  state: OutboundState;
  /** Delivery attempts made so far. */
  attempts: number;
  /** When the next attempt is due (queued, deferred); null once delivered or bounced. */
  nextAttemptAt: Date | null;
  /** The last failure's reply or reason ("451 4.7.1 Greylisted"), null when none. */
  lastError: string | null;
  /** Whether the sender was warned that delivery is delayed (sent once). */
  warned: boolean;
  updatedAt: Date;
}

export interface OutboundMessage {
  id: string;
  /** The local user who submitted it; null for mail the server itself sends (none yet). */
  userId: string | null;
  /** The envelope sender (MAIL FROM); "" is the null sender of a bounce. */
  sender: string;
  size: number;
  createdAt: Date;
  dsn: MessageDsn;
  recipients: OutboundRecipient[];
}

export interface NewOutboundMessage {
  userId: string | null;
  sender: string;
  recipients: string[];
  raw: Buffer;
  /** RFC 3461 parameters of the submission; per recipient keyed by the address as in `recipients`. */
  dsn?: Partial<MessageDsn> & { recipients?: Record<string, Partial<RecipientDsn>> };
}

/** What became of one recipient in one attempt. */
export type OutboundResult =
  | { state: 'delivered' }
  | { state: 'deferred'; error: string; nextAttemptAt: Date; warned?: boolean }
  | { state: 'bounced'; error: string };

export function newOutboundId(): string {
  return crypto.randomBytes(9).toString('base64url');
}

/** Checks a message before it is queued: INVALID for no recipients or an empty body. */
export function checkNewOutbound(message: NewOutboundMessage): string[] {
  if (!Buffer.isBuffer(message.raw) || message.raw.length === 0) {
    throw new StoreError('INVALID', 'An outbound message needs a body');
  }
  const recipients = [...new Set(message.recipients)];
  if (
    recipients.length === 0 ||
    recipients.some((address) => typeof address !== 'string' || address === '')
  ) {
    throw new StoreError('INVALID', 'An outbound message needs recipients');
  }
  return recipients;
}

export function checkOutboundHolder(holder: string, leaseMs?: number): void {
  if (typeof holder !== 'string' || holder === '') throw new StoreError('INVALID', 'Queue holder is empty');
  if (leaseMs !== undefined && (!Number.isSafeInteger(leaseMs) || leaseMs <= 0)) {
    throw new StoreError('INVALID', `Queue lease must be a positive integer of ms, got ${leaseMs}`);
  }
}

export const MAX_ENVID = 100; // RFC 3461 4.4
export const MAX_ORCPT = 500;

/** The message's DSN parameters, checked (INVALID otherwise), with nulls for what was not given. */
export function messageDsnOf(message: NewOutboundMessage): MessageDsn {
  const ret = message.dsn?.ret ?? null;
  const envid = message.dsn?.envid ?? null;
  if (ret !== null && ret !== 'FULL' && ret !== 'HDRS')
    throw new StoreError('INVALID', 'RET is FULL or HDRS');
  if (
    envid !== null &&
    (typeof envid !== 'string' || envid.length > MAX_ENVID || /[^\x20-\x7e]/.test(envid))
  ) {
    throw new StoreError('INVALID', `ENVID is at most ${MAX_ENVID} printable characters`);
  }
  return { ret, envid };
}

/** One recipient's DSN parameters, checked (INVALID otherwise), with nulls for what was not given. */
export function recipientDsnOf(message: NewOutboundMessage, address: string): RecipientDsn {
  const given = message.dsn?.recipients?.[address];
  const notify = given?.notify ?? null;
  const orcpt = given?.orcpt ?? null;
  if (notify !== null) {
    if (
      !Array.isArray(notify) ||
      notify.length === 0 ||
      notify.some((value) => !DSN_NOTIFY.includes(value))
    ) {
      throw new StoreError('INVALID', 'NOTIFY is NEVER or a list of SUCCESS, FAILURE, DELAY');
    }
    if (notify.includes('NEVER') && notify.length > 1)
      throw new StoreError('INVALID', 'NOTIFY=NEVER stands alone');
  }
  if (
    orcpt !== null &&
    (typeof orcpt !== 'string' || orcpt.length > MAX_ORCPT || !/^[^;\s]+;\S/.test(orcpt))
  ) {
    throw new StoreError('INVALID', 'ORCPT is "addr-type;address"');
  }
  return { notify: notify === null ? null : [...new Set(notify)], orcpt };
}

/** Whether the sender asked for (or, by default, gets) a report of this kind for the recipient. */
export function wantsReport(recipient: RecipientDsn, kind: 'delivered' | 'failed' | 'delayed'): boolean {
  if (recipient.notify === null) return kind !== 'delivered';
  const wanted = { delivered: 'SUCCESS', failed: 'FAILURE', delayed: 'DELAY' } as const;
  return recipient.notify.includes(wanted[kind]);
}

/** Whether a recipient still waits for delivery. */
export function isPending(state: OutboundState): boolean {
  return state === 'queued' || state === 'deferred';
}
