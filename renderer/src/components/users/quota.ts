/** Quota arithmetic for the forms and bars: the API speaks bytes, people speak MB and GB. */

export type QuotaUnit = 'MB' | 'GB';

export const UNIT_BYTES: Record<QuotaUnit, number> = { MB: 1024 ** 2, GB: 1024 ** 3 };

export function toBytes(amount: number, unit: QuotaUnit): number {
  return Math.round(amount * UNIT_BYTES[unit]);
}

/** The friendliest unit for an existing quota: GB when it is a whole number of them. */
export function fromBytes(bytes: number): { amount: number; unit: QuotaUnit } {
  if (bytes > 0 && bytes % UNIT_BYTES.GB === 0) return { amount: bytes / UNIT_BYTES.GB, unit: 'GB' };
  return { amount: Math.round((bytes / UNIT_BYTES.MB) * 100) / 100, unit: 'MB' };
}

/** Percentage used, or null for an unlimited quota (0). */
export function usedPercent(used: number, limit: number): number | null {
  if (limit <= 0) return null;
  return Math.min(100, (used / limit) * 100);
}

/** Green while there is room, yellow from 80 %, red from 95 %. */
export function quotaColor(percent: number | null): string {
  if (percent === null) return 'gray';
  if (percent >= 95) return 'red';
  if (percent >= 80) return 'yellow';
  return 'teal';
}
