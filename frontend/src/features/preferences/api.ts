import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { Preferences, PreferencesPatch } from '@/lib/types';

export const preferencesQuery = queryOptions({
  queryKey: queryKeys.preferences,
  queryFn: ({ signal }) => api<Preferences>('/user/preferences', { signal }),
  staleTime: 5 * 60_000,
});

export function usePreferences() {
  return useQuery(preferencesQuery);
}

export function useUpdatePreferences() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (patch: PreferencesPatch) => api<Preferences>('/user/preferences', { method: 'PATCH', body: patch }),
    onSuccess: (p) => {
      qc.setQueryData(queryKeys.preferences, p);
      // Dates and "overdue" are computed in the time zone; lists must be re-read.
      void qc.invalidateQueries({ queryKey: queryKeys.tasks });
      void qc.invalidateQueries({ queryKey: queryKeys.suggestions });
    },
  });
}
