/**
 * Pure edits of the cached task pages, used for optimistic updates: each returns a new value
 * and leaves the old one intact, so a failed request can put the old one back.
 */
import type { InfiniteData } from '@tanstack/react-query';
import type { Task, TaskPage } from '@/lib/types';
import { compareManual, localPosition, type Move } from './order';

export type TaskPages = InfiniteData<TaskPage, unknown>;

export function mapTasks(data: TaskPages | undefined, fn: (t: Task) => Task | null): TaskPages | undefined {
  if (!data) return data;
  return {
    ...data,
    pages: data.pages.map((page) => ({
      ...page,
      items: page.items.flatMap((t) => {
        const next = fn(t);
        return next ? [next] : [];
      }),
    })),
  };
}

export function patchTask(data: TaskPages | undefined, id: string, patch: Partial<Task>): TaskPages | undefined {
  return mapTasks(data, (t) => (t.id === id ? { ...t, ...patch } : t));
}

export function removeTask(data: TaskPages | undefined, id: string): TaskPages | undefined {
  return mapTasks(data, (t) => (t.id === id ? null : t));
}

/** Puts a new task at the top of the first page, unless it is already there. */
export function prependTask(data: TaskPages | undefined, task: Task): TaskPages | undefined {
  if (!data || data.pages.length === 0) return data;
  if (data.pages.some((p) => p.items.some((t) => t.id === task.id))) return patchTask(data, task.id, task);
  const [first, ...rest] = data.pages;
  return { ...data, pages: [{ ...first!, items: [task, ...first!.items] }, ...rest] };
}

export function allTasks(data: TaskPages | undefined): Task[] {
  const seen = new Set<string>();
  const out: Task[] = [];
  for (const page of data?.pages ?? []) {
    for (const t of page.items) {
      if (!seen.has(t.id)) {
        seen.add(t.id);
        out.push(t);
      }
    }
  }
  return out;
}

/**
 * Marks a task done or not. Completing a parent completes its open subtasks with it (as the
 * server does); a subtask changing state changes its parent's done count.
 */
export function setCompletedInCache(data: TaskPages | undefined, id: string, completed: boolean, at: string): TaskPages | undefined {
  const target = allTasks(data).find((t) => t.id === id);
  const done: Partial<Task> = { completed, completedAt: completed ? at : null, isOverdue: false };
  const step = target && target.completed !== completed ? (completed ? 1 : -1) : 0;
  return mapTasks(data, (t) => {
    if (t.id === id) return { ...t, ...done, ...(completed ? { subtasks: { ...t.subtasks, done: t.subtasks.total } } : {}) };
    if (completed && t.parentId === id && !t.completed) return { ...t, ...done };
    if (target?.parentId === t.id && step) return { ...t, subtasks: { ...t.subtasks, done: Math.min(t.subtasks.total, Math.max(0, t.subtasks.done + step)) } };
    return t;
  });
}

/**
 * Places a task as `move` says: in its new section, with a key between its new neighbours
 * among those in this list (same project, section and parent). Lists sorted by `position`
 * show the new order at once; the server's key replaces this one.
 */
export function applyMove(data: TaskPages | undefined, id: string, move: Move): TaskPages | undefined {
  const tasks = allTasks(data);
  const moved = tasks.find((t) => t.id === id);
  if (!moved) return data;
  const sectionId = move.sectionId !== undefined ? move.sectionId : (moved.sectionId ?? null);
  const siblings = tasks
    .filter((t) => t.id !== id && t.projectId === moved.projectId && (t.sectionId ?? null) === sectionId && (t.parentId ?? null) === (moved.parentId ?? null))
    .sort(compareManual);
  const position = localPosition(siblings, move.afterId);
  return patchTask(data, id, { sectionId, ...(position ? { position } : {}) });
}
