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
import type { MimeIndex, NestedValue } from '../../mime/types.ts';
import type { MessageSummary } from '../../store/types.ts';
import { baseSubject, type BaseSubject } from './base-subject.ts';
import { casemapKey } from './collate.ts';
import type { SortCriterion, SortKeyName } from '../parser/index.ts';

export type { SortCriterion, SortKeyName };

/** What SORT and THREAD know of one message. */
export interface SortMessage {
  seq: number;
  uid: number;
  arrival: number;
  size: number;
  /** Sent date, epoch ms: the Date header, else the internal date. */
  date: number;
  /** The ENVELOPE, or null when the message's index is gone (it sorts as if it had no header). */
  envelope: NestedValue[] | null;
  /** The stored body and the length of its header (for THREAD's References); null: gone. */
  blobId: string | null;
  headerEnd: number;
}

/** ENVELOPE positions (RFC 3501 7.4.2). */
const SUBJECT = 1;
const FROM = 2;
const TO = 5;
const CC = 6;

/** ENVELOPE strings are text already; decoding encoded words wants the bytes as a binary string. */
export function asBinary(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

export function sortMessage(
  seq: number,
  uid: number,
  summary: MessageSummary | null,
  index: MimeIndex | null,
): SortMessage {
  const arrival = summary?.internalDate.getTime() ?? 0;
  return {
    seq,
    uid,
    arrival,
    size: summary?.size ?? 0,
    date: index?.date ?? arrival,
    envelope: index?.envelope ?? null,
    blobId: summary?.blobId ?? null,
    headerEnd: index?.root.bodyStart ?? 0,
  };
}

/**
 * The first address of a list, as Dovecot takes it: the first entry, a group's start marker
 * included (its mailbox is the group's name, so "undisclosed-recipients:;" sorts by that name).
 */
function firstAddress(message: SortMessage, position: number): AddressTuple | null {
  const list = message.envelope?.[position];
  if (!Array.isArray(list) || !Array.isArray(list[0])) return null;
  return list[0] as AddressTuple;
}

function mailboxKey(message: SortMessage, position: number): string {
  return casemapKey(firstAddress(message, position)?.[2] ?? '');
}

function displayKey(message: SortMessage, position: number): string {
  const address = firstAddress(message, position);
  if (address === null) return '';
  const [name, , mailbox, host] = address;
  const decoded = name === null ? '' : decodeHeaderValue(asBinary(name));
  if (decoded !== '') return casemapKey(decoded);
  return casemapKey(host === null ? (mailbox ?? '') : `${mailbox ?? ''}@${host}`);
}

/** The subject header of a message as raw text (encoded words not decoded), or null. */
export function rawSubject(message: SortMessage): string | null {
  const subject = message.envelope?.[SUBJECT];
  return typeof subject === 'string' ? asBinary(subject) : null;
}

export function messageBaseSubject(message: SortMessage): BaseSubject {
  return baseSubject(rawSubject(message));
}

/** The value of one key for one message: a number or a collation key. */
export function keyValue(message: SortMessage, key: SortKeyName): string | number {
  switch (key) {
    case 'ARRIVAL':
      return message.arrival;
    case 'DATE':
      return message.date;
    case 'SIZE':
      return message.size;
    case 'FROM':
      return mailboxKey(message, FROM);
    case 'TO':
      return mailboxKey(message, TO);
    case 'CC':
      return mailboxKey(message, CC);
    case 'DISPLAYFROM':
      return displayKey(message, FROM);
    case 'DISPLAYTO':
      return displayKey(message, TO);
    case 'SUBJECT':
      return casemapKey(messageBaseSubject(message).text);
  }
}
