import { describe, expect, it } from 'vitest';
import { dueState, formatDue, formatOffset, fromApiDue, relativeTime, toApiDue, zoneOffsetMinutes } from '../dates';

const now = new Date('2026-11-28T12:00:00Z');

describe('dueState', () => {
  it('marks overdue, due within a day, later, none and done', () => {
    expect(dueState('2026-11-27T12:00:00Z', false, now)).toBe('overdue');
    expect(dueState('2026-11-28T11:59:00Z', false, now)).toBe('overdue');
    expect(dueState('2026-11-29T11:00:00Z', false, now)).toBe('soon');
    expect(dueState('2026-11-30T12:00:00Z', false, now)).toBe('later');
    expect(dueState(null, false, now)).toBe('none');
    expect(dueState('2026-11-27T12:00:00Z', true, now)).toBe('done');
  });
});

describe('time zones', () => {
  it('knows offsets, DST included', () => {
    expect(zoneOffsetMinutes(new Date('2026-07-01T12:00:00Z'), 'Europe/Berlin')).toBe(120);
    expect(zoneOffsetMinutes(new Date('2026-12-01T12:00:00Z'), 'Europe/Berlin')).toBe(60);
    expect(zoneOffsetMinutes(new Date('2026-12-01T12:00:00Z'), 'America/New_York')).toBe(-300);
    expect(zoneOffsetMinutes(new Date('2026-12-01T12:00:00Z'), 'Asia/Kolkata')).toBe(330);
  });

  it('sends wall-clock times with the offset of the user zone on that day', () => {
    expect(toApiDue('2026-12-01', '17:00', 'Europe/Berlin')).toBe('2026-12-01T17:00:00+01:00');
    expect(toApiDue('2026-07-01', '09:30', 'Europe/Berlin')).toBe('2026-07-01T09:30:00+02:00');
    expect(toApiDue('2026-03-08', '09:00', 'America/New_York')).toBe('2026-03-08T09:00:00-04:00');
    expect(toApiDue('2026-03-07', '09:00', 'America/New_York')).toBe('2026-03-07T09:00:00-05:00');
    expect(toApiDue('2026-12-01', '08:00', 'UTC')).toBe('2026-12-01T08:00:00+00:00');
  });

  it('sends a date alone as a date and nothing without a date', () => {
    expect(toApiDue('2026-12-01', '', 'Europe/Berlin')).toBe('2026-12-01');
    expect(toApiDue('', '10:00', 'Europe/Berlin')).toBeUndefined();
  });

  it('round-trips through the form inputs', () => {
    const sent = toApiDue('2026-10-25', '02:30', 'Europe/Berlin')!;
    expect(fromApiDue(new Date(sent).toISOString(), 'Europe/Berlin')).toEqual({ date: '2026-10-25', time: '02:30' });
    expect(fromApiDue(null, 'UTC')).toEqual({ date: '', time: '' });
  });
});

describe('formatDue', () => {
  it('names nearby days in the user zone', () => {
    expect(formatDue('2026-11-28T17:00:00Z', now, 'UTC')).toBe('Today 17:00');
    expect(formatDue('2026-11-27T09:30:00Z', now, 'UTC')).toBe('Yesterday 09:30');
    expect(formatDue('2026-11-29T08:00:00Z', now, 'UTC')).toBe('Tomorrow 08:00');
    // 23:30 UTC on the 28th is already the 29th in Berlin.
    expect(formatDue('2026-11-28T23:30:00Z', now, 'Europe/Berlin')).toBe('Tomorrow 00:30');
  });

  it('leaves out the end-of-day time of date-only tasks', () => {
    expect(formatDue('2026-11-28T23:59:59Z', now, 'UTC')).toBe('Today');
  });

  it('shows a short date further away, with the year only when it differs', () => {
    expect(formatDue('2026-12-15T10:00:00Z', now, 'UTC')).toBe('15 Dec 10:00');
    expect(formatDue('2027-01-15T10:00:00Z', now, 'UTC')).toBe('15 Jan 2027 10:00');
  });
});

describe('small formatters', () => {
  it('reads offsets and relative times naturally', () => {
    expect(formatOffset(0)).toBe('At the due time');
    expect(formatOffset(30)).toBe('30 minutes before');
    expect(formatOffset(60)).toBe('1 hour before');
    expect(formatOffset(1440)).toBe('1 day before');
    expect(relativeTime('2026-11-28T11:55:00Z', now)).toBe('5 min ago');
    expect(relativeTime('2026-11-28T14:00:00Z', now)).toBe('in 2 h');
  });
});
