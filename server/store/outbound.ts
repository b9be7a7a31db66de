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

export interface OutboundRecipient {
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
  recipients: OutboundRecipient[];
}

export interface NewOutboundMessage {
  userId: string | null;
  sender: string;
  recipients: string[];
  raw: Buffer;
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

/** Whether a recipient still waits for delivery. */
export function isPending(state: OutboundState): boolean {
  return state === 'queued' || state === 'deferred';
}
