import type { Recurrence } from '@/lib/types';

const UNITS: Record<string, [string, string]> = {
  daily: ['day', 'days'],
  weekly: ['week', 'weeks'],
  monthly: ['month', 'months'],
  yearly: ['year', 'years'],
};

const DAY_NAMES: Record<string, string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

/** "Every day", "Every 2 weeks on Mon, Fri" — short enough for a task row. */
export function describeRecurrence(r: Recurrence): string {
  const n = r.interval ?? 1;
  const [one, many] = UNITS[r.frequency] ?? ['time', 'times'];
  let text = n === 1 ? `Every ${one}` : `Every ${n} ${many}`;
  if (r.weekdays?.length) text += ` on ${r.weekdays.map((d) => DAY_NAMES[d] ?? d).join(', ')}`;
  if (r.count) text += `, ${r.count} times`;
  if (r.until) text += `, until ${r.until}`;
  return text;
}
