/**
 * Dates for the date and currentdate tests (RFC 5260): reading a Date-like header field with its
 * zone, and the date parts (year, month, ..., iso8601, std11, zone, weekday) in a chosen zone.
 */
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const NAMED_ZONES: Record<string, number> = {
  ut: 0,
  gmt: 0,
  z: 0,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420,
};
const DATE_TIME =
  /^(?:[a-z]+\s*,\s*)?(\d{1,2})\s+([a-z]{3})\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[a-z]+)?\s*$/i;

export const DATE_PARTS = [
  'year',
  'month',
  'day',
  'date',
  'julian',
  'hour',
  'minute',
  'second',
  'time',
  'iso8601',
  'std11',
  'zone',
  'weekday',
];

export interface ZonedDate {
  /** Epoch milliseconds. */
  time: number;
  /** Offset from UTC in minutes. */
  offset: number;
}

/** Parses an RFC 5322 date-time (comments removed); null when it is not one. */
export function parseZonedDate(value: string): ZonedDate | null {
  const match = DATE_TIME.exec(
    value
      .replace(/\([^)]*\)/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
  if (match === null) return null;
  const [, day, monthName, yearText, hour, minute, second, zone] = match;
  const month = MONTHS.indexOf((monthName ?? '').toLowerCase());
  if (month < 0) return null;
  let year = Number(yearText);
  if ((yearText ?? '').length === 2) year += year < 50 ? 2000 : 1900;
  else if ((yearText ?? '').length === 3) year += 1900;
  const offset = parseZone(zone ?? '-0000');
  if (offset === null) return null;
  const local = Date.UTC(year, month, Number(day), Number(hour), Number(minute), Number(second ?? 0));
  if (Number.isNaN(local) || Number(hour) > 23 || Number(minute) > 59 || Number(second ?? 0) > 60)
    return null;
  return { time: local - offset * 60_000, offset };
}

/** "+hhmm" / "-hhmm" or an obsolete zone name, as minutes east of UTC. */
export function parseZone(zone: string): number | null {
  const numeric = /^([+-])(\d\d)(\d\d)$/.exec(zone);
  if (numeric !== null) {
    const minutes = Number(numeric[2]) * 60 + Number(numeric[3]);
    return numeric[1] === '-' ? -minutes : minutes;
  }
  return NAMED_ZONES[zone.toLowerCase()] ?? 0;
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

function formatZone(offset: number, separator = ''): string {
  const sign = offset < 0 ? '-' : '+';
  const absolute = Math.abs(offset);
  return `${sign}${pad(Math.floor(absolute / 60))}${separator}${pad(absolute % 60)}`;
}

/** The value of one date part of `time` shown in the zone `offset` (minutes east of UTC). */
export function datePart(part: string, time: number, offset: number): string {
  const shifted = new Date(time + offset * 60_000);
  const year = pad(shifted.getUTCFullYear(), 4);
  const month = pad(shifted.getUTCMonth() + 1);
  const day = pad(shifted.getUTCDate());
  const hour = pad(shifted.getUTCHours());
  const minute = pad(shifted.getUTCMinutes());
  const second = pad(shifted.getUTCSeconds());
  switch (part) {
    case 'year':
      return year;
    case 'month':
      return month;
    case 'day':
      return day;
    case 'date':
      return `${year}-${month}-${day}`;
    case 'julian': {
      // Modified Julian Day: days since 1858-11-17.
      const midnight = Date.UTC(shifted.getUTCFullYear(), shifted.getUTCMonth(), shifted.getUTCDate());
      return String(Math.floor(midnight / 86_400_000) + 40_587);
    }
    case 'hour':
      return hour;
    case 'minute':
      return minute;
    case 'second':
      return second;
    case 'time':
      return `${hour}:${minute}:${second}`;
    case 'iso8601':
      return `${year}-${month}-${day}T${hour}:${minute}:${second}${formatZone(offset, ':')}`;
    case 'std11': {
      const monthName = MONTHS[shifted.getUTCMonth()] as string;
      const name = monthName.charAt(0).toUpperCase() + monthName.slice(1);
      return `${DAYS[shifted.getUTCDay()]}, ${shifted.getUTCDate()} ${name} ${year} ${hour}:${minute}:${second} ${formatZone(offset)}`;
    }
    case 'zone':
      return formatZone(offset);
    case 'weekday':
      return String(shifted.getUTCDay());
    default:
      return '';
  }
}
