/**
 * The Date header as epoch milliseconds, for sorting and listings (SENTBEFORE and friends). RFC 5322
 * syntax with its obsolete forms (two-digit years, named zones, comments); anything else goes to
 * Date.parse as a last resort.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Obsolete zone names of RFC 5322 4.3, in hours. Military letters are meaningless: -0000. */
const ZONES: Record<string, number> = {
  ut: 0,
  gmt: 0,
  z: 0,
  est: -5,
  edt: -4,
  cst: -6,
  cdt: -5,
  mst: -7,
  mdt: -6,
  pst: -8,
  pdt: -7,
};

const DATE_TIME =
  /^(?:[a-z]+\s*,?\s*)?(\d{1,2})[\s-]+([a-z]{3})[a-z]*\.?[\s-]+(\d{2,4})\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?\s*([+-]\d{4}|[a-z]+)?/i;

export function parseDate(value: string | null): number | null {
  if (value === null) return null;
  const text = value.replace(/\([^)]*\)/g, ' ').trim();
  const match = DATE_TIME.exec(text);
  if (match === null) return fallback(text);
  const [, day, monthName, yearText, hour, minute, second, zone] = match;
  const month = MONTHS.indexOf((monthName ?? '').toLowerCase());
  if (month < 0) return fallback(text);
  const time = Date.UTC(
    fullYear(yearText ?? ''),
    month,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second ?? 0),
  );
  const result = time - zoneOffsetMinutes(zone) * 60_000;
  return Number.isFinite(result) ? result : null;
}

/** RFC 5322 4.3: two-digit years below 50 are 20xx, others 19xx; three-digit years add 1900. */
function fullYear(text: string): number {
  const year = Number(text);
  if (text.length === 2) return year < 50 ? 2000 + year : 1900 + year;
  if (text.length === 3) return 1900 + year;
  return year;
}

function zoneOffsetMinutes(zone: string | undefined): number {
  if (zone === undefined) return 0;
  if (/^[+-]\d{4}$/.test(zone)) {
    const sign = zone.startsWith('-') ? -1 : 1;
    return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  }
  return (ZONES[zone.toLowerCase()] ?? 0) * 60;
}

function fallback(text: string): number | null {
  const time = Date.parse(text);
  return Number.isNaN(time) ? null : time;
}
