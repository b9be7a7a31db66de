/**
 * Calendar days for BEFORE/ON/SINCE and SENTBEFORE/SENTON/SENTSINCE, as day numbers (days since
 * 1970-01-01 of the proleptic Gregorian calendar), so comparisons are plain integer comparisons.
 *
 * - The internal date is a point in time; its calendar day is taken in the server's local time
 *   zone, the zone FETCH INTERNALDATE shows it in (Dovecot uses the zone stored with the date; we
 *   store none).
 * - The sent date is the day as written in the Date header ("disregarding time and timezone",
 *   RFC 3501 6.4.4), read from the ENVELOPE's date string so that no message body is read. When the
 *   header is not in RFC 5322 form, the parsed Date (MimeIndex.date) gives the day in UTC.
 */
import type { SearchDate } from '../parser/index.ts';

const DAY_MS = 86_400_000;

export function dayNumber(year: number, month: number, day: number): number {
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, keeps years below 100 as they are.
  date.setUTCFullYear(year, month - 1, day);
  return Math.floor(date.getTime() / DAY_MS);
}

export function searchDay(date: SearchDate): number {
  return dayNumber(date.year, date.month, date.day);
}

/** The calendar day of an instant in the server's local time zone. */
export function localDay(date: Date): number {
  return dayNumber(date.getFullYear(), date.getMonth() + 1, date.getDate());
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** `[Day,] d Mon yyyy` at the start of an RFC 5322 date, with the obsolete forms' leniency. */
const DATE_PART = /^\s*(?:[a-z]+\s*,?\s*)?(\d{1,2})[\s-]+([a-z]{3})[a-z]*\.?[\s-]+(\d{2,4})\b/i;

/** RFC 5322 4.3: two-digit years below 50 are 20xx, others 19xx; three-digit years add 1900. */
function fullYear(text: string): number {
  const year = Number(text);
  if (text.length === 2) return year < 50 ? 2000 + year : 1900 + year;
  if (text.length === 3) return 1900 + year;
  return year;
}

/**
 * The day a Date header names, as written; falls back to `parsed` (epoch ms, the index's reading of
 * the header) in UTC; null when the message has no usable date (it then matches no SENT* key).
 */
export function sentDay(header: string | null, parsed: number | null): number | null {
  const match = header === null ? null : DATE_PART.exec(header.replace(/\([^)]*\)/g, ' '));
  if (match !== null) {
    const month = MONTHS.indexOf(match[2]!.toLowerCase()) + 1;
    const day = Number(match[1]);
    if (month > 0 && day >= 1 && day <= 31) return dayNumber(fullYear(match[3]!), month, day);
  }
  return parsed === null ? null : Math.floor(parsed / DAY_MS);
}
