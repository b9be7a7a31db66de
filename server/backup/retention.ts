/**
 * Which backups to keep: the newest backup of each of the last `daily` days, of each of the last
 * `weekly` ISO weeks and of each of the last `monthly` months (local time), counting only periods
 * that have a backup. Everything else is pruned. The newest backup is always kept.
 */
export interface RetentionPolicy {
  daily: number;
  weekly: number;
  monthly: number;
}

export function backupsToKeep<T extends { createdAt: Date }>(backups: T[], policy: RetentionPolicy): Set<T> {
  const newestFirst = [...backups].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const keep = new Set<T>(newestFirst.slice(0, 1));
  for (const [count, period] of [
    [policy.daily, dayKey],
    [policy.weekly, weekKey],
    [policy.monthly, monthKey],
  ] as const) {
    const periods = new Set<string>();
    for (const backup of newestFirst) {
      if (periods.size >= count) break;
      const key = period(backup.createdAt);
      if (periods.has(key)) continue;
      periods.add(key);
      keep.add(backup);
    }
  }
  return keep;
}

function dayKey(date: Date): string {
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

function monthKey(date: Date): string {
  return `${date.getFullYear()}-${date.getMonth() + 1}`;
}

/** The ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday). */
function weekKey(date: Date): string {
  const day = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const weekday = (day.getDay() + 6) % 7; // Monday 0
  day.setDate(day.getDate() - weekday + 3); // the Thursday of this week
  const firstThursday = new Date(day.getFullYear(), 0, 4);
  const week =
    1 +
    Math.round(
      (day.getTime() - firstThursday.getTime()) / 86_400_000 / 7 -
        (((firstThursday.getDay() + 6) % 7) - 3) / 7,
    );
  return `${day.getFullYear()}-W${week}`;
}
