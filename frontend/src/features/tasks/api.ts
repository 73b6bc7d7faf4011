/**
 * Task endpoints, their query keys and hooks. Mutations update every cached list at once
 * (optimistically) and put the old lists back if the server refuses.
 */
import { infiniteQueryOptions, keepPreviousData, useInfiniteQuery, useMutation, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { api, ApiError } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { CompletionResponse, CreateTaskInput, Priority, QueryOf, QuickAddResult, Task, TaskListQuery, TaskPage, UpdateTaskInput } from '@/lib/types';
import { applyMove, patchTask, prependTask, removeTask, setCompletedInCache, type TaskPages } from './cache';
import type { Move } from './order';

/** `position` is the manual order (the project view's). */
export type SortField = 'createdAt' | 'updatedAt' | 'dueAt' | 'priority' | 'title' | 'position';

export interface TaskFilters {
  status: 'open' | 'completed' | 'all';
  priority: '' | Priority;
  tag: string;
  overdue: boolean;
  search: string;
  sort: SortField;
  order: 'asc' | 'desc';
  /** The project on screen; never remembered, since the URL says it. */
  projectId?: string;
  /** Day bounds of the Today and Upcoming views (`YYYY-MM-DD`, whole days in the user's zone). */
  dueBefore?: string;
  dueAfter?: string;
}

export const defaultFilters: TaskFilters = {
  status: 'open',
  priority: '',
  tag: '',
  overdue: false,
  search: '',
  sort: 'createdAt',
  order: 'desc',
};

export const PAGE_SIZE = 30;

export function taskListQuery(f: TaskFilters) {
  return infiniteQueryOptions({
    queryKey: [...queryKeys.tasks, 'list', f] as const,
    queryFn: ({ pageParam, signal }) =>
      api<TaskPage>('/tasks', {
        signal,
        query: {
          status: f.status,
          priority: f.priority,
          tag: f.tag.trim().replace(/^#/, ''),
          projectId: f.projectId,
          dueBefore: f.dueBefore,
          dueAfter: f.dueAfter,
          overdue: f.overdue ? 'true' : undefined,
          search: f.search.trim(),
          sort: f.sort,
          order: f.order,
          limit: PAGE_SIZE,
          cursor: pageParam,
        } satisfies QueryOf<TaskListQuery>,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor ?? null,
  });
}

export function fetchTask(id: string): Promise<Task> {
  return api<Task>(`/tasks/${id}`);
}

/** While a new search or filter loads, the previous results stay on screen (dimmed) instead
 * of a skeleton, so typing in the search box does not make the page jump. */
export function useTaskList(f: TaskFilters) {
  return useInfiniteQuery({ ...taskListQuery(f), placeholderData: keepPreviousData });
}

type Snapshot = [readonly unknown[], TaskPages | undefined][];

/** Applies `edit` to every cached task list; returns what puts them back. */
async function optimistic(qc: QueryClient, edit: (d: TaskPages | undefined) => TaskPages | undefined): Promise<() => void> {
  const filter = { queryKey: [...queryKeys.tasks, 'list'] };
  await qc.cancelQueries(filter);
  const snapshot = qc.getQueriesData<TaskPages>(filter) as Snapshot;
  qc.setQueriesData<TaskPages>(filter, edit);
  return () => snapshot.forEach(([key, data]) => qc.setQueryData(key, data));
}

function refresh(qc: QueryClient) {
  return qc.invalidateQueries({ queryKey: queryKeys.tasks });
}

export function useCreateTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateTaskInput) =>
      api<Task>('/tasks', { method: 'POST', body: input, headers: { 'idempotency-key': crypto.randomUUID() } }),
    onSuccess: (task) => {
      qc.setQueriesData<TaskPages>({ queryKey: [...queryKeys.tasks, 'list'] }, (d) => prependTask(d, task));
      void refresh(qc);
    },
  });
}

export function useUpdateTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: UpdateTaskInput }) => api<Task>(`/tasks/${id}`, { method: 'PATCH', body: patch }),
    onMutate: async ({ id, patch }) => {
      const local: Partial<Task> = {};
      if (patch.title != null) local.title = patch.title;
      if (patch.description !== undefined) local.description = patch.description;
      if (patch.priority != null) local.priority = patch.priority;
      if (patch.tags !== undefined) local.tags = patch.tags ?? [];
      if (patch.estimateMinutes !== undefined) local.estimateMinutes = patch.estimateMinutes;
      return { rollback: await optimistic(qc, (d) => patchTask(d, id, local)) };
    },
    onError: (_e, _v, ctx) => ctx?.rollback(),
    onSuccess: (task) => qc.setQueriesData<TaskPages>({ queryKey: [...queryKeys.tasks, 'list'] }, (d) => patchTask(d, task.id, task)),
    onSettled: () => refresh(qc),
  });
}

export function useSetCompleted() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, completed }: { id: string; completed: boolean }) =>
      api<CompletionResponse | Task>(`/tasks/${id}/${completed ? 'complete' : 'incomplete'}`, { method: 'POST' }),
    onMutate: async ({ id, completed }) => ({
      rollback: await optimistic(qc, (d) => setCompletedInCache(d, id, completed, new Date().toISOString())),
    }),
    onError: (_e, _v, ctx) => ctx?.rollback(),
    onSuccess: (res) => {
      const next = 'task' in res ? res.nextTask : null;
      if (next) qc.setQueriesData<TaskPages>({ queryKey: [...queryKeys.tasks, 'list'] }, (d) => prependTask(d, next));
    },
    onSettled: () => {
      void refresh(qc);
      void qc.invalidateQueries({ queryKey: queryKeys.suggestions });
    },
  });
}

const MOVE_KEY = [...queryKeys.tasks, 'move'] as const;

/**
 * Moves a task in the manual order (and maybe to another section), at once in every cached
 * list; a refusal puts the lists back. Moves go to the server one after another (one scope),
 * since each is computed from the order the ones before it made; while more are queued, an
 * answer does not overwrite their local order, and the lists are fetched again after the last.
 */
export function useMoveTask(onFailed?: (error: unknown) => void) {
  const qc = useQueryClient();
  const othersPending = () => qc.isMutating({ mutationKey: MOVE_KEY }) > 1;
  return useMutation({
    mutationKey: MOVE_KEY,
    scope: { id: 'task-move' },
    mutationFn: ({ id, move }: { id: string; move: Move }) => api<Task>(`/tasks/${id}/move`, { method: 'POST', body: move }),
    onMutate: async ({ id, move }) => ({ rollback: await optimistic(qc, (d) => applyMove(d, id, move)) }),
    // Here, not per call: a per-call callback only runs for the latest of several queued moves.
    onError: (e, _v, ctx) => {
      ctx?.rollback();
      onFailed?.(e);
    },
    onSuccess: (task) => {
      if (!othersPending()) qc.setQueriesData<TaskPages>({ queryKey: [...queryKeys.tasks, 'list'] }, (d) => patchTask(d, task.id, task));
    },
    onSettled: () => (othersPending() ? undefined : refresh(qc)),
  });
}

/** Hides the task at once; the caller sends the DELETE later (so Undo can cancel it). */
export async function hideTask(qc: QueryClient, id: string): Promise<() => void> {
  return optimistic(qc, (d) => removeTask(d, id));
}

export function deleteTask(id: string, keepalive = false): Promise<void> {
  return api<void>(`/tasks/${id}`, { method: 'DELETE', keepalive }).catch((e) => {
    // Already gone (deleted in another tab) is what the user wanted.
    if (e instanceof ApiError && e.isNotFound) return;
    throw e;
  });
}

/**
 * null when the server has no parser (404): the quick-add box then creates plain tasks.
 * `projectId` is the project on screen, which a `/Section` without a `#Project` refers to.
 */
export async function parseQuickAdd(
  text: string,
  { projectId, signal }: { projectId?: string; signal?: AbortSignal } = {},
): Promise<QuickAddResult | null> {
  const body: { text: string; projectId?: string } = projectId ? { text, projectId } : { text };
  try {
    return await api<QuickAddResult>('/tasks/parse', { method: 'POST', body, signal });
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
    throw e;
  }
}
