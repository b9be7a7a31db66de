/**
 * IMAP dates: `date` of SEARCH (`1-Feb-1994`) and `date-time` of APPEND
 * (`"17-Jul-1996 02:44:25 -0700"`).
 */
import type { SearchDate } from './types.ts';

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_INDEX = new Map(MONTHS.map((m, i) => [m.toUpperCase(), i + 1]));

function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

function daysInMonth(year: number, month: number): number {
  return new Date(utc(year, month + 1, 0)).getUTCDate();
}

function validDay(year: number, month: number, day: number): boolean {
  return year >= 1 && day >= 1 && day <= daysInMonth(year, month);
}

const DATE_RE = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/;

/** `d-Mon-yyyy` (day of one or two digits) → SearchDate, or null when invalid. */
export function parseSearchDate(text: string): SearchDate | null {
  const m = DATE_RE.exec(text);
  if (!m) return null;
  const month = MONTH_INDEX.get(m[2]!.toUpperCase());
  const day = Number(m[1]);
  const year = Number(m[3]);
  if (!month || !validDay(year, month, day)) return null;
  return { year, month, day };
}

const DATE_TIME_RE = /^( ?\d|\d{2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

/**
 * `dd-Mon-yyyy hh:mm:ss +zzzz` (the day may be space-padded, or one digit) → Date, or null when
 * invalid. A leap second (:60) is accepted and rolls over.
 */
export function parseDateTime(text: string): Date | null {
  const m = DATE_TIME_RE.exec(text);
  if (!m) return null;
  const day = Number(m[1]!.trim());
  const month = MONTH_INDEX.get(m[2]!.toUpperCase());
  const year = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  const zoneHours = Number(m[8]);
  const zoneMinutes = Number(m[9]);
  if (!month || !validDay(year, month, day)) return null;
  if (hour > 23 || minute > 59 || second > 60 || zoneHours > 23 || zoneMinutes > 59) return null;
  const offset = (m[7] === '-' ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  const date = new Date(utc(year, month, day, hour, minute, second) - offset * 60_000);
  return Number.isNaN(date.getTime()) ? null : date;
}
