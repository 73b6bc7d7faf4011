import { act, renderHook } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultFilters } from '../api';
import { FILTERS_KEY, SEARCH_DEBOUNCE_MS, useTaskFilters } from '../useTaskFilters';

afterEach(() => {
  vi.useRealTimers();
});

describe('useTaskFilters', () => {
  it('starts from the defaults on a first visit', () => {
    const { result } = renderHook(() => useTaskFilters());
    expect(result.current.filters).toEqual(defaultFilters);
    expect(result.current.search).toBe('');
  });

  it('restores the filters of the last visit, but not its search', () => {
    localStorage.setItem(FILTERS_KEY, JSON.stringify({ status: 'completed', tag: 'work', search: 'milk' }));
    const { result } = renderHook(() => useTaskFilters());
    expect(result.current.filters).toEqual({ ...defaultFilters, status: 'completed', tag: 'work', search: '' });
  });

  it('starts from the defaults when what was stored cannot be read', () => {
    localStorage.setItem(FILTERS_KEY, '{not json');
    const { result } = renderHook(() => useTaskFilters());
    expect(result.current.filters).toEqual(defaultFilters);
  });

  it('remembers a changed filter without the search', () => {
    const { result } = renderHook(() => useTaskFilters());
    act(() => result.current.setFilters((f) => ({ ...f, priority: 'high', search: 'typed' })));
    expect(JSON.parse(localStorage.getItem(FILTERS_KEY)!)).toEqual({ ...defaultFilters, priority: 'high', search: '' });
  });

  it('queries the search only once typing pauses', () => {
    vi.useFakeTimers();
    const { result } = renderHook(() => useTaskFilters());
    act(() => result.current.setSearch('mil'));
    act(() => vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS - 1));
    act(() => result.current.setSearch('milk'));
    expect(result.current.search).toBe('milk');
    expect(result.current.effective.search).toBe('');
    act(() => vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS));
    expect(result.current.effective).toEqual({ ...defaultFilters, search: 'milk' });
  });

  it('filters by a tag, and clearing resets the search and every filter', () => {
    const { result } = renderHook(() => useTaskFilters());
    act(() => {
      result.current.setFilters((f) => ({ ...f, status: 'all', overdue: true }));
      result.current.setSearch('report');
    });
    act(() => result.current.filterByTag('home'));
    expect(result.current.filters).toEqual({ ...defaultFilters, status: 'all', overdue: true, tag: 'home' });
    act(() => result.current.clear());
    expect(result.current.filters).toEqual(defaultFilters);
    expect(result.current.search).toBe('');
  });
});
