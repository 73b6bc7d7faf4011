/**
 * Calendar days in the user's time zone, for the Today and Upcoming views: which day it is,
 * the days ahead, which day a task falls on, and moving a task to another day.
 */
import { fromApiDue, toApiDue } from '@/lib/dates';
import type { Task } from '@/lib/types';

/** The calendar date (`YYYY-MM-DD`) of `at` in `timeZone`. */
export function localDate(at: Date, timeZone: string): string {
  return fromApiDue(at.toISOString(), timeZone).date;
}

/** `date` plus `n` days, as a calendar date (no time zone: days are days). */
export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** `count` consecutive dates from `first`. */
export function daysFrom(first: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => addDays(first, i));
}

/** Each day with its tasks (those due on it in `timeZone`), every day kept even when empty. */
export function groupByDay(tasks: Task[], days: string[], timeZone: string): { day: string; tasks: Task[] }[] {
  const byDay = new Map(days.map((day) => [day, [] as Task[]]));
  for (const task of tasks) {
    if (task.dueAt) byDay.get(fromApiDue(task.dueAt, timeZone).date)?.push(task);
  }
  return days.map((day) => ({ day, tasks: byDay.get(day) ?? [] }));
}

/**
 * The `dueAt` that moves a task to `day` and keeps its time of day; a task due at the end of
 * its day (entered as a date alone) stays a date alone.
 */
export function movedDue(dueAt: string | null | undefined, day: string, timeZone: string): string {
  const { time } = fromApiDue(dueAt, timeZone);
  return toApiDue(day, time === '23:59' ? '' : time, timeZone) ?? day;
}

/** "Today · Mon 7 Dec", "Tomorrow · Tue 8 Dec", "Wed 9 Dec". */
export function dayHeading(day: string, today: string, locale = 'en-GB'): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const label = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
  if (day === today) return `Today · ${label}`;
  if (day === addDays(today, 1)) return `Tomorrow · ${label}`;
  return label;
}
