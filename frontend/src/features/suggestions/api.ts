import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { QueryOf, Suggestion, SuggestionItem, SuggestionList, SuggestionListQuery } from '@/lib/types';

export const suggestionsQuery = queryOptions({
  queryKey: queryKeys.suggestions,
  queryFn: ({ signal }) => api<SuggestionList>('/suggestions', { signal, query: { status: 'open' } satisfies QueryOf<SuggestionListQuery> }),
});

export function useSuggestions() {
  return useQuery(suggestionsQuery);
}

/** How many suggestions are open, over all kinds. */
export function openTotal(list: SuggestionList): number {
  return Object.values(list.openCounts).reduce<number>((sum, n) => sum + (n ?? 0), 0);
}

export const KIND_LABELS: Record<string, string> = {
  overdue: 'Overdue',
  priority: 'Priority',
  overload: 'Workload',
  stale: 'Still relevant?',
  reminder: 'Reminders',
  schedule_adjustment: 'Reschedule',
  daily_plan: 'Today',
};

export const KIND_ORDER = ['daily_plan', 'schedule_adjustment', 'overdue', 'reminder', 'priority', 'overload', 'stale'];

/** The new due time a change proposes, when it moves the due time and nothing else (only such a change can take another day). */
export function proposedDue(change: object | null | undefined): string | undefined {
  if (!change) return undefined;
  const entries = Object.entries(change);
  const [key, value] = entries[0] ?? [];
  return entries.length === 1 && key === 'dueAt' && typeof value === 'string' ? value : undefined;
}

/** The items' estimates added up, or undefined when none carries one. */
export function totalEstimate(items: SuggestionItem[]): number | undefined {
  const known = items.filter((i) => i.estimateMinutes != null && i.status !== 'skipped');
  return known.length ? known.reduce((sum, i) => sum + i.estimateMinutes!, 0) : undefined;
}

/** "45 min", "2 h", "2 h 30 min". */
export function formatMinutes(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h === 0 ? `${m} min` : m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** The list with one suggestion taken out, its kind's open count lowered. */
function without(list: SuggestionList, id: string): SuggestionList {
  const gone = list.items.find((s) => s.id === id);
  const openCounts = { ...list.openCounts };
  if (gone && openCounts[gone.kind]) openCounts[gone.kind] = Math.max(0, openCounts[gone.kind]! - 1);
  return { items: list.items.filter((s) => s.id !== id), openCounts };
}

export function groupByKind(items: Suggestion[]): { kind: string; items: Suggestion[] }[] {
  const groups = new Map<string, Suggestion[]>();
  for (const s of items) {
    if (s.status !== 'open') continue;
    const list = groups.get(s.kind) ?? [];
    list.push(s);
    groups.set(s.kind, list);
  }
  const rank = (k: string) => {
    const i = KIND_ORDER.indexOf(k);
    return i < 0 ? KIND_ORDER.length : i;
  };
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)).map(([kind, items]) => ({ kind, items }));
}

export interface ResolveInput {
  id: string;
  action: 'accept' | 'dismiss';
  /** "Pick another day": this due time instead of the proposed one. */
  dueAt?: string;
}

/** Accept (as proposed or for another day) or dismiss; the suggestion leaves the panel at once and returns if the server refuses. */
export function useResolveSuggestion() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action, dueAt }: ResolveInput) =>
      api<Suggestion>(`/suggestions/${id}/${action}`, { method: 'POST', body: dueAt ? { dueAt } : undefined }),
    onMutate: async ({ id }) => {
      await qc.cancelQueries({ queryKey: queryKeys.suggestions });
      const before = qc.getQueryData<SuggestionList>(queryKeys.suggestions);
      if (before) qc.setQueryData<SuggestionList>(queryKeys.suggestions, without(before, id));
      return { before };
    },
    onError: (_e, _v, ctx) => {
      if (ctx?.before) qc.setQueryData(queryKeys.suggestions, ctx.before);
    },
    onSettled: (_d, _e, { action }) => {
      void qc.invalidateQueries({ queryKey: queryKeys.suggestions });
      if (action === 'accept') void qc.invalidateQueries({ queryKey: queryKeys.tasks });
    },
  });
}

export interface AnswerItemInput {
  id: string;
  taskId: string;
  action: 'accept' | 'skip';
  dueAt?: string;
}

/**
 * Accept or skip one task of a grouped proposal or a plan. The item shows its answer at once
 * (and the suggestion leaves when it was the last open one); a refusal puts it back.
 */
export function useAnswerItem() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, taskId, action, dueAt }: AnswerItemInput) =>
      api<Suggestion>(`/suggestions/${id}/items/${taskId}/${action}`, { method: 'POST', body: dueAt ? { dueAt } : undefined }),
    onMutate: async ({ id, taskId, action, dueAt }) => {
      await qc.cancelQueries({ queryKey: queryKeys.suggestions });
      const before = qc.getQueryData<SuggestionList>(queryKeys.suggestions);
      if (before) {
        const status = action === 'accept' ? 'accepted' : 'skipped';
        const items = before.items.map((s) =>
          s.id !== id
            ? s
            : {
                ...s,
                items: s.items.map((i) =>
                  i.taskId !== taskId ? i : { ...i, status, proposedChange: dueAt ? { dueAt } : i.proposedChange },
                ),
              },
        );
        const answered = items.find((s) => s.id === id);
        const next = { ...before, items };
        qc.setQueryData<SuggestionList>(
          queryKeys.suggestions,
          answered && answered.items.every((i) => i.status !== 'open') ? without(next, id) : next,
        );
      }
      return { before };
    },
    onError: (_e, _v, ctx) => {
      if (ctx?.before) qc.setQueryData(queryKeys.suggestions, ctx.before);
    },
    onSettled: (_d, _e, { action }) => {
      void qc.invalidateQueries({ queryKey: queryKeys.suggestions });
      if (action === 'accept') void qc.invalidateQueries({ queryKey: queryKeys.tasks });
    },
  });
}
