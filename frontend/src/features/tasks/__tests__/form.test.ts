import { describe, expect, it } from 'vitest';
import { makeTask } from '@/test/tasks';
import { apiFieldToForm, emptyForm, formFromTask, parseTags, toCreateInput, toUpdateInput, validateTask } from '../form';
import { validateAuth } from '@/features/auth/validation';

const task = makeTask('t1', {
  title: 'Pay rent',
  priority: 'high',
  tags: ['home', 'money'],
  dueAt: '2026-12-01T08:00:00Z',
  recurrence: { frequency: 'monthly', interval: 1, basis: 'dueDate' },
  reminders: [{ offsetMinutes: 60 }],
});

describe('validateTask', () => {
  it('needs a one-line title of at most 200 characters', () => {
    expect(validateTask({ ...emptyForm, title: '  ' }).title).toBe('Give the task a title.');
    expect(validateTask({ ...emptyForm, title: 'x'.repeat(201) }).title).toMatch(/200/);
    expect(validateTask({ ...emptyForm, title: 'ok' })).toEqual({});
  });

  it('ties repeats, reminders and times to a due date', () => {
    const e = validateTask({ ...emptyForm, title: 'x', repeat: 'daily', reminder: '30', dueTime: '10:00', interval: '0' });
    expect(e).toEqual({
      dueDate: 'Pick a date for this time.',
      repeat: 'A repeating task needs a due date.',
      interval: 'Repeat every 1 to 999.',
      reminder: 'A reminder needs a due date.',
    });
  });

  it('limits tags', () => {
    expect(validateTask({ ...emptyForm, title: 'x', tags: Array.from({ length: 21 }, (_, i) => `t${i}`).join(',') }).tags).toMatch(/20/);
  });
});

describe('request bodies', () => {
  it('parses tags without duplicates or hashes', () => {
    expect(parseTags('#work, home,, Work ,x')).toEqual(['work', 'home', 'x']);
  });

  it('builds a create body with only what was filled in', () => {
    expect(toCreateInput({ ...emptyForm, title: ' Buy milk ' }, 'UTC')).toEqual({ title: 'Buy milk', priority: 'medium' });
    expect(
      toCreateInput(
        { ...emptyForm, title: 'Standup', tags: 'work', dueDate: '2026-12-01', dueTime: '09:00', repeat: 'weekly', weekdays: ['mon', 'thu'], reminder: '15' },
        'Europe/Berlin',
      ),
    ).toEqual({
      title: 'Standup',
      priority: 'medium',
      tags: ['work'],
      dueAt: '2026-12-01T09:00:00+01:00',
      recurrence: { frequency: 'weekly', interval: 1, weekdays: ['mon', 'thu'] },
      reminders: [{ offsetMinutes: 15 }],
    });
  });

  it('sends only changed fields on edit, with null to clear', () => {
    const before = formFromTask(task, 'UTC');
    expect(before).toMatchObject({ dueDate: '2026-12-01', dueTime: '08:00', repeat: 'monthly', reminder: '60', tags: 'home, money' });
    expect(toUpdateInput(before, before, 'UTC')).toEqual({});
    expect(toUpdateInput(before, { ...before, priority: 'low', tags: '', repeat: '', reminder: 'none' }, 'UTC')).toEqual({
      priority: 'low',
      tags: null,
      recurrence: null,
      reminders: [],
    });
    expect(toUpdateInput(before, { ...before, dueDate: '', dueTime: '', repeat: '' }, 'UTC')).toEqual({ dueAt: null, recurrence: null });
  });

  it('maps API field names onto form fields', () => {
    expect(apiFieldToForm('dueAt')).toBe('dueDate');
    expect(apiFieldToForm('recurrence.interval')).toBe('interval');
    expect(apiFieldToForm('recurrence.until')).toBe('repeat');
    expect(apiFieldToForm('tags[2]')).toBe('tags');
    expect(apiFieldToForm('reminders[0].offsetMinutes')).toBe('reminder');
    expect(apiFieldToForm('nonsense')).toBeNull();
  });
});

describe('validateAuth', () => {
  it('checks email, password length and the confirmation on sign-up', () => {
    expect(validateAuth({ email: 'nope', password: 'short', confirm: '' }, 'signup')).toEqual({
      email: 'That does not look like an email address.',
      password: 'Use at least 8 characters.',
    });
    expect(validateAuth({ email: 'a@b.c', password: 'long enough', confirm: 'long enuf' }, 'signup')).toEqual({
      confirm: 'The passwords do not match.',
    });
    expect(validateAuth({ email: 'a@b.c', password: 'x', confirm: '' }, 'signin')).toEqual({});
  });
});
