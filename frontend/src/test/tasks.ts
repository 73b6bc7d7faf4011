import type { Task } from '@/lib/types';

/** A task as the server sends it, with `over` changed. */
export function makeTask(id: string, over: Partial<Task> = {}): Task {
  return {
    id,
    title: `Task ${id}`,
    description: null,
    priority: 'medium',
    tags: [],
    dueAt: null,
    recurrence: null,
    reminders: [],
    completed: false,
    completedAt: null,
    isOverdue: false,
    seriesId: id,
    projectId: 'inbox',
    sectionId: null,
    occurrenceNumber: 1,
    previousTaskId: null,
    parentId: null,
    position: '8',
    subtasks: { total: 0, done: 0 },
    createdAt: '2026-11-01T00:00:00Z',
    updatedAt: '2026-11-01T00:00:00Z',
    ...over,
  };
}
