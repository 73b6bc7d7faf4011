/**
 * The task list's filters. They are remembered across visits, except the search, which starts
 * empty; the search box is debounced so that typing does not refetch on every keystroke.
 */
import { useCallback, useEffect, useState } from 'react';
import { useDebounced } from '@/lib/use-debounced';
import { defaultFilters, type TaskFilters } from './api';

export const FILTERS_KEY = 'task-filters';
export const SEARCH_DEBOUNCE_MS = 250;

function initialFilters(): TaskFilters {
  try {
    const raw = localStorage.getItem(FILTERS_KEY);
    if (raw) return { ...defaultFilters, ...(JSON.parse(raw) as Partial<TaskFilters>), search: '' };
  } catch {
    // fall through
  }
  return defaultFilters;
}

export function useTaskFilters() {
  const [filters, setFilters] = useState<TaskFilters>(initialFilters);
  const [search, setSearch] = useState('');
  const debouncedSearch = useDebounced(search, SEARCH_DEBOUNCE_MS);

  useEffect(() => {
    try {
      localStorage.setItem(FILTERS_KEY, JSON.stringify({ ...filters, search: '' }));
    } catch {
      // Filters then reset on the next visit.
    }
  }, [filters]);

  const filterByTag = useCallback((tag: string) => setFilters((f) => ({ ...f, tag })), []);
  const clear = useCallback(() => {
    setSearch('');
    setFilters(defaultFilters);
  }, []);

  return {
    /** What the filter controls show (the search as typed is `search`). */
    filters,
    setFilters,
    search,
    setSearch,
    /** What the list queries: the filters with the debounced search. */
    effective: { ...filters, search: debouncedSearch } satisfies TaskFilters,
    filterByTag,
    clear,
  };
}
