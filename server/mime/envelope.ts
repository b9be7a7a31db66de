/**
 * IMAP ENVELOPE (RFC 3501 7.4.2) from a message header: date, subject, from, sender, reply-to, to,
 * cc, bcc, in-reply-to, message-id. Strings are the header values unfolded and otherwise as written
 * (encoded words stay encoded, as Dovecot returns them); a missing header is NIL; sender and reply-to
 * fall back to from. When a field occurs twice the last one counts, as in Dovecot.
 */
import { parseAddressList } from './address.ts';
import { displayString } from './bytes.ts';
import { lastValue, type HeaderField } from './header.ts';
import type { NestedValue } from './types.ts';

/** An envelope of all NILs: for a message with no header at all. */
export const EMPTY_ENVELOPE: NestedValue[] = [null, null, null, null, null, null, null, null, null, null];

export function buildEnvelope(raw: Buffer, fields: HeaderField[]): NestedValue[] {
  const text = (key: string): string | null => {
    const value = lastValue(raw, fields, key);
    return value === null ? null : displayString(value);
  };
  const addresses = (key: string): NestedValue[] | null => {
    const value = lastValue(raw, fields, key);
    const list = value === null ? [] : parseAddressList(value);
    return list.length === 0 ? null : list;
  };
  const from = addresses('from');
  return [
    text('date'),
    text('subject'),
    from,
    addresses('sender') ?? from,
    addresses('reply-to') ?? from,
    addresses('to'),
    addresses('cc'),
    addresses('bcc'),
    text('in-reply-to'),
    text('message-id'),
  ];
}
