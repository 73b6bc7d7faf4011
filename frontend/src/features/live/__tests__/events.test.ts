import { describe, expect, it } from 'vitest';
import { NO_EFFECTS, parseLiveEvent, reduceLive, splitFlush, type LiveEvent } from '../events';

const fold = (events: LiveEvent[]) => events.reduce(reduceLive, NO_EFFECTS);
const task = (eventType: string): LiveEvent => ({ type: 'task', data: { eventType, taskId: 't1' } });

describe('parseLiveEvent', () => {
  it('reads each event type', () => {
    expect(parseLiveEvent('ready', '{}')).toEqual({ type: 'ready' });
    expect(parseLiveEvent('task', '{"eventType":"tasks.created","taskId":"a"}')).toEqual({
      type: 'task',
      data: { eventType: 'tasks.created', taskId: 'a' },
    });
    expect(
      parseLiveEvent('suggestion', '{"suggestionId":"s","kind":"overdue","status":"open","taskId":null,"title":"Overdue"}'),
    ).toEqual({ type: 'suggestion', data: { suggestionId: 's', kind: 'overdue', status: 'open', taskId: null, title: 'Overdue' } });
    expect(parseLiveEvent('reminder', '{"taskId":"t","title":"Call","dueAt":"2026-11-28T10:00:00Z"}')).toEqual({
      type: 'reminder',
      data: { taskId: 't', title: 'Call', dueAt: '2026-11-28T10:00:00Z' },
    });
  });

  it('ignores malformed or unknown events instead of throwing', () => {
    expect(parseLiveEvent('task', 'not json')).toBeNull();
    expect(parseLiveEvent('task', '{"taskId":"a"}')).toBeNull();
    expect(parseLiveEvent('suggestion', 'null')).toBeNull();
    expect(parseLiveEvent('mystery', '{}')).toBeNull();
  });
});

describe('reduceLive', () => {
  it('refetches everything on (re)connect', () => {
    expect(fold([{ type: 'ready' }])).toEqual({ refetchTasks: true, refetchSuggestions: true, reminders: [] });
  });

  it('collapses a burst of task events into one task refetch', () => {
    const e = fold([task('tasks.completed'), task('tasks.created'), task('tasks.updated')]);
    expect(e).toEqual({ refetchTasks: true, refetchSuggestions: false, reminders: [] });
  });

  it('does not refetch the list for a reminder task event', () => {
    expect(fold([task('tasks.reminder')])).toEqual(NO_EFFECTS);
  });

  it('refetches suggestions, and tasks too when one was accepted', () => {
    const open: LiveEvent = { type: 'suggestion', data: { suggestionId: 's', kind: 'overdue', status: 'open', taskId: 't', title: '' } };
    const accepted: LiveEvent = { type: 'suggestion', data: { ...open.data, status: 'accepted' } } as LiveEvent;
    expect(fold([open])).toMatchObject({ refetchSuggestions: true, refetchTasks: false });
    expect(fold([accepted])).toMatchObject({ refetchSuggestions: true, refetchTasks: true });
  });

  it('keeps every reminder of a burst', () => {
    const r = (title: string): LiveEvent => ({ type: 'reminder', data: { taskId: title, title, dueAt: null } });
    expect(fold([r('a'), r('b')]).reminders.map((x) => x.title)).toEqual(['a', 'b']);
  });
});

describe('splitFlush', () => {
  const burst = fold([task('tasks.created'), { type: 'reminder', data: { taskId: 't', title: 'Call', dueAt: null } }]);

  it('does everything at once when no change of the user is pending', () => {
    expect(splitFlush(burst, false)).toEqual({ now: burst, later: NO_EFFECTS });
  });

  it('holds refetches while a change is pending, but shows reminders at once', () => {
    const { now, later } = splitFlush(burst, true);
    expect(now).toEqual({ ...NO_EFFECTS, reminders: burst.reminders });
    expect(later).toEqual({ refetchTasks: true, refetchSuggestions: false, reminders: [] });
  });
});
