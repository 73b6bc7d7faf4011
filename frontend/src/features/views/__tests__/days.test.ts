import { describe, expect, it } from 'vitest';
import type { Task } from '@/lib/types';
import { addDays, dayHeading, daysFrom, groupByDay, localDate, movedDue } from '../days';

const task = (id: string, dueAt: string | null) => ({ id, dueAt }) as Task;

describe('days in the user’s zone', () => {
  it('knows which day it is where the user is', () => {
    const at = new Date('2026-12-07T02:30:00Z');
    expect(localDate(at, 'UTC')).toBe('2026-12-07');
    expect(localDate(at, 'America/Los_Angeles')).toBe('2026-12-06');
    expect(localDate(at, 'Asia/Tokyo')).toBe('2026-12-07');
  });

  it('counts days across month and year ends', () => {
    expect(addDays('2026-12-30', 3)).toBe('2027-01-02');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(daysFrom('2026-12-31', 3)).toEqual(['2026-12-31', '2027-01-01', '2027-01-02']);
  });

  it('puts each task on its local day and keeps empty days', () => {
    const days = daysFrom('2026-03-07', 3);
    const groups = groupByDay(
      [task('late', '2026-03-08T04:30:00Z'), task('next', '2026-03-09T13:00:00Z'), task('undated', null), task('beyond', '2026-04-01T12:00:00Z')],
      days,
      'America/New_York',
    );
    expect(groups.map((g) => [g.day, g.tasks.map((t) => t.id)])).toEqual([
      ['2026-03-07', ['late']],
      ['2026-03-08', []],
      ['2026-03-09', ['next']],
    ]);
  });

  it('moves a task to another day at the same time of day, across a DST change', () => {
    // 09:00 in New York on 7 March (UTC−5); on 9 March the clocks are at UTC−4.
    expect(movedDue('2026-03-07T14:00:00Z', '2026-03-09', 'America/New_York')).toBe('2026-03-09T09:00:00-04:00');
    // A date alone (due at the end of its day) stays a date alone.
    expect(movedDue('2026-03-08T04:59:59Z', '2026-03-10', 'America/New_York')).toBe('2026-03-10');
    expect(movedDue(null, '2026-03-10', 'UTC')).toBe('2026-03-10');
  });

  it('names today and tomorrow', () => {
    expect(dayHeading('2026-12-07', '2026-12-07')).toBe('Today · Mon 7 Dec');
    expect(dayHeading('2026-12-08', '2026-12-07')).toBe('Tomorrow · Tue 8 Dec');
    expect(dayHeading('2026-12-10', '2026-12-07')).toBe('Thu 10 Dec');
  });
});
