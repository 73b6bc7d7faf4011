/**
 * Due dates: when a task counts as overdue or due soon, and how dates are shown and sent.
 * Everything is computed in the user's chosen time zone (their preference), not the
 * browser's, so the app agrees with the server about what "today" is.
 */

export const DUE_SOON_MS = 24 * 60 * 60 * 1000;

export type DueState = 'overdue' | 'soon' | 'later' | 'none' | 'done';

export function dueState(dueAt: string | null | undefined, completed: boolean, now: Date): DueState {
  if (completed) return 'done';
  if (!dueAt) return 'none';
  const due = new Date(dueAt).getTime();
  const t = now.getTime();
  if (due < t) return 'overdue';
  if (due - t <= DUE_SOON_MS) return 'soon';
  return 'later';
}

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

function zonedParts(date: Date, timeZone: string): Parts {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  const p: Record<string, number> = {};
  for (const part of fmt.formatToParts(date)) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour! % 24, minute: p.minute! };
}

function dayNumber(p: Pick<Parts, 'year' | 'month' | 'day'>): number {
  return Math.floor(Date.UTC(p.year, p.month - 1, p.day) / 86_400_000);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Offset of `timeZone` from UTC at instant `date`, in minutes (east positive). */
export function zoneOffsetMinutes(date: Date, timeZone: string): number {
  const p = zonedParts(date, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
  return Math.round((asUtc - Math.floor(date.getTime() / 60_000) * 60_000) / 60_000);
}

/**
 * Wall-clock date and time in `timeZone` → RFC 3339 with that zone's offset. A date alone is
 * sent as a date, which the API reads as the end of that day in the user's zone.
 */
export function toApiDue(date: string, time: string, timeZone: string): string | undefined {
  if (!date) return undefined;
  if (!time) return date;
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi] = time.split(':').map(Number) as [number, number];
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  // The offset at the guessed instant is right except within an hour of a DST change; a
  // second pass with the corrected instant settles it.
  let offset = zoneOffsetMinutes(new Date(guess), timeZone);
  offset = zoneOffsetMinutes(new Date(guess - offset * 60_000), timeZone);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${date}T${pad(h)}:${pad(mi)}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** An instant → the `date` and `time` input values in `timeZone`. */
export function fromApiDue(dueAt: string | null | undefined, timeZone: string): { date: string; time: string } {
  if (!dueAt) return { date: '', time: '' };
  const p = zonedParts(new Date(dueAt), timeZone);
  return { date: `${p.year}-${pad(p.month)}-${pad(p.day)}`, time: `${pad(p.hour)}:${pad(p.minute)}` };
}

/** "Today 17:00", "Yesterday 09:30", "Tomorrow", "Fri 5 Dec 14:00", "5 Dec 2027". */
export function formatDue(dueAt: string, now: Date, timeZone: string, locale = 'en-GB'): string {
  const due = new Date(dueAt);
  const dp = zonedParts(due, timeZone);
  const np = zonedParts(now, timeZone);
  const diff = dayNumber(dp) - dayNumber(np);
  const time = `${pad(dp.hour)}:${pad(dp.minute)}`;
  // End-of-day due times come from dates entered without a time; the time adds nothing there.
  const showTime = !(dp.hour === 23 && dp.minute === 59);
  let day: string;
  if (diff === 0) day = 'Today';
  else if (diff === -1) day = 'Yesterday';
  else if (diff === 1) day = 'Tomorrow';
  else {
    const opts: Intl.DateTimeFormatOptions = { timeZone, day: 'numeric', month: 'short' };
    if (Math.abs(diff) < 7) opts.weekday = 'short';
    if (dp.year !== np.year) opts.year = 'numeric';
    day = new Intl.DateTimeFormat(locale, opts).format(due);
  }
  return showTime ? `${day} ${time}` : day;
}

/** "in 5 min", "2 h ago": for reminders and toasts. */
export function relativeTime(iso: string, now: Date): string {
  const mins = Math.round((new Date(iso).getTime() - now.getTime()) / 60_000);
  const abs = Math.abs(mins);
  const text = abs < 1 ? 'now' : abs < 60 ? `${abs} min` : abs < 48 * 60 ? `${Math.round(abs / 60)} h` : `${Math.round(abs / 1440)} days`;
  if (text === 'now') return 'now';
  return mins < 0 ? `${text} ago` : `in ${text}`;
}

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export function formatOffset(minutes: number): string {
  if (minutes === 0) return 'At the due time';
  if (minutes % 1440 === 0) return `${minutes / 1440} day${minutes === 1440 ? '' : 's'} before`;
  if (minutes % 60 === 0) return `${minutes / 60} hour${minutes === 60 ? '' : 's'} before`;
  return `${minutes} minutes before`;
}
