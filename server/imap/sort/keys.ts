/**
 * SORT keys (RFC 5256 3, SORT=DISPLAY RFC 5957) of one message, from what the store keeps: the
 * summary (internal date, size) and the MIME index (ENVELOPE, parsed Date). Strings are collation
 * keys already (collate.ts), so sorting compares them without mapping again.
 *
 * - ARRIVAL: the internal date. SIZE: RFC822.SIZE.
 * - DATE: the Date header, the internal date when it is missing or cannot be parsed (RFC 5256).
 * - FROM, TO, CC: the addr-mailbox (local part) of the first address; "" when there is none (a
 *   group's start counts as an address whose mailbox is the group name, as in Dovecot).
 * - DISPLAYFROM, DISPLAYTO: the first address's display name (encoded words decoded), else its
 *   addr-spec (RFC 5957 3).
 * - SUBJECT: the base subject (base-subject.ts).
 */
import type { AddressTuple } from '../../mime/address.ts';
import { decodeHeaderValue } from '../../mime/encoded-word.ts';
import type { NestedValue } from '../../mime/types.ts';
import type { MessageSummary, SortFields } from '../../store/types.ts';
import { baseSubject, type BaseSubject } from './base-subject.ts';
import { casemapKey } from './collate.ts';
import type { Atom } from './ranks.ts';
import type { SortCriterion, SortKeyName } from '../parser/index.ts';

export type { SortCriterion, SortKeyName };

/**
 * What SORT and THREAD know of one message, apart from its sequence number: a compact extract of
 * the summary and MIME index (not the whole ENVELOPE), kept per mailbox (cache.ts) and shared by
 * the sessions that have it selected. A message's bytes never change, so neither does its entry.
 */
export interface SortEntry {
  uid: number;
  arrival: number;
  size: number;
  /** Sent date, epoch ms: the Date header, else the internal date. */
  date: number;
  /** False when made without the MIME index (ARRIVAL/SIZE only): the fields below are empty. */
  indexed: boolean;
  /** Subject as the ENVELOPE has it (text, encoded words not decoded), or null. */
  subject: string | null;
  /** First address of From, To and Cc (a group's start included), or null. */
  from: AddressTuple | null;
  to: AddressTuple | null;
  cc: AddressTuple | null;
  inReplyTo: string | null;
  messageId: string | null;
  /** The stored body and the length of its header (for THREAD's References); null: gone. */
  blobId: string | null;
  headerEnd: number;
  /** Computed on first use and kept, shared by every copy of the entry. */
  lazy: LazyKeys;
}

export interface LazyKeys {
  keys: Partial<Record<TextKeyName, string>>;
  baseSubject?: BaseSubject;
  /** The first id of Message-ID (message-ids.ts), null when none. */
  ownId?: string | null;
  /** The References header, raw; null: none; undefined: not read yet (older MIME index). */
  references?: string | null;
  /** The message's value of each key, interned and ranked in its mailbox (ranks.ts), by key slot. */
  atoms?: (Atom | undefined)[];
}

/** One message of a SORT or THREAD: its entry and its sequence number in this session. */
export interface SortMessage extends SortEntry {
  seq: number;
}

/** ENVELOPE positions (RFC 3501 7.4.2). */
const SUBJECT = 1;
const FROM = 2;
const TO = 5;
const CC = 6;
const IN_REPLY_TO = 8;
const MESSAGE_ID = 9;

/** ENVELOPE strings are text already; decoding encoded words wants the bytes as a binary string. */
export function asBinary(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

function envelopeText(envelope: NestedValue[] | undefined, position: number): string | null {
  const value = envelope?.[position];
  return typeof value === 'string' ? value : null;
}

/**
 * The first address of a list, as Dovecot takes it: the first entry, a group's start marker
 * included (its mailbox is the group's name, so "undisclosed-recipients:;" sorts by that name).
 */
function firstAddress(envelope: NestedValue[] | undefined, position: number): AddressTuple | null {
  const list = envelope?.[position];
  if (!Array.isArray(list) || !Array.isArray(list[0])) return null;
  return list[0] as AddressTuple;
}

/** What an entry takes from the message's summary (or from an entry made without the index). */
export interface SummaryPart {
  arrival: number;
  size: number;
  blobId: string;
}

export function summaryPart(summary: MessageSummary): SummaryPart {
  return { arrival: summary.internalDate.getTime(), size: summary.size, blobId: summary.blobId };
}

export function sortEntry(
  uid: number,
  summary: SummaryPart | null,
  index: SortFields | null,
  indexed: boolean,
): SortEntry {
  const arrival = summary?.arrival ?? 0;
  const envelope = index?.envelope;
  return {
    uid,
    arrival,
    size: summary?.size ?? 0,
    date: index?.date ?? arrival,
    indexed,
    subject: envelopeText(envelope, SUBJECT),
    from: firstAddress(envelope, FROM),
    to: firstAddress(envelope, TO),
    cc: firstAddress(envelope, CC),
    inReplyTo: envelopeText(envelope, IN_REPLY_TO),
    messageId: envelopeText(envelope, MESSAGE_ID),
    blobId: summary?.blobId ?? null,
    headerEnd: index?.root.bodyStart ?? 0,
    lazy: { keys: {}, ...(index?.references !== undefined && { references: index.references }) },
  };
}

function mailboxKey(address: AddressTuple | null): string {
  return casemapKey(address?.[2] ?? '');
}

function displayKey(address: AddressTuple | null): string {
  if (address === null) return '';
  const [name, , mailbox, host] = address;
  const decoded = name === null ? '' : decodeHeaderValue(asBinary(name));
  if (decoded !== '') return casemapKey(decoded);
  return casemapKey(host === null ? (mailbox ?? '') : `${mailbox ?? ''}@${host}`);
}

/** The subject header of a message as raw text (encoded words not decoded), or null. */
export function rawSubject(message: SortEntry): string | null {
  return message.subject === null ? null : asBinary(message.subject);
}

export function messageBaseSubject(message: SortEntry): BaseSubject {
  return (message.lazy.baseSubject ??= baseSubject(rawSubject(message)));
}

/** The keys whose values are collation keys, worth keeping once computed. */
type TextKeyName = Exclude<SortKeyName, 'ARRIVAL' | 'DATE' | 'SIZE'>;

/** The value of one key for one message: a number, or a collation key (computed once, kept). */
export function keyValue(message: SortEntry, key: SortKeyName): string | number {
  switch (key) {
    case 'ARRIVAL':
      return message.arrival;
    case 'DATE':
      return message.date;
    case 'SIZE':
      return message.size;
    case 'FROM':
    case 'TO':
    case 'CC':
    case 'DISPLAYFROM':
    case 'DISPLAYTO':
    case 'SUBJECT':
      return (message.lazy.keys[key] ??= textKey(message, key));
  }
}

function textKey(message: SortEntry, key: TextKeyName): string {
  switch (key) {
    case 'FROM':
      return mailboxKey(message.from);
    case 'TO':
      return mailboxKey(message.to);
    case 'CC':
      return mailboxKey(message.cc);
    case 'DISPLAYFROM':
      return displayKey(message.from);
    case 'DISPLAYTO':
      return displayKey(message.to);
    case 'SUBJECT':
      return casemapKey(messageBaseSubject(message).text);
  }
}
