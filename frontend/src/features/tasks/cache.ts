/**
 * Pure edits of the cached task pages, used for optimistic updates: each returns a new value
 * and leaves the old one intact, so a failed request can put the old one back.
 */
import type { InfiniteData } from '@tanstack/react-query';
import type { Task, TaskPage } from '@/lib/types';

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
