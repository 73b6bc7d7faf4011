import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { QueryOf, Suggestion, SuggestionList, SuggestionListQuery } from '@/lib/types';

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
};

export const KIND_ORDER = ['overdue', 'reminder', 'priority', 'overload', 'stale'];

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

/** Accept or dismiss; the suggestion leaves the panel at once and returns if the server refuses. */
export function useResolveSuggestion() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action }: { id: string; action: 'accept' | 'dismiss' }) =>
      api<Suggestion>(`/suggestions/${id}/${action}`, { method: 'POST' }),
    onMutate: async ({ id }) => {
      await qc.cancelQueries({ queryKey: queryKeys.suggestions });
      const before = qc.getQueryData<SuggestionList>(queryKeys.suggestions);
      if (before) {
        const gone = before.items.find((s) => s.id === id);
        const openCounts = { ...before.openCounts };
        if (gone && openCounts[gone.kind]) openCounts[gone.kind] = Math.max(0, openCounts[gone.kind]! - 1);
        qc.setQueryData<SuggestionList>(queryKeys.suggestions, { items: before.items.filter((s) => s.id !== id), openCounts });
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
