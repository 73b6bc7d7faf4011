import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, fireEvent, renderHook, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '@/components/toasts';
import { stubFetch, type Recorded } from '@/test/fetch';
import { makeTask } from '@/test/tasks';
import { defaultFilters, taskListQuery } from '../api';
import { allTasks, type TaskPages } from '../cache';
import { UNDO_MS, useUndoableDelete } from '../useUndoableDelete';

const a = makeTask('a');
const b = makeTask('b');

function setup(deleteStatus = 204) {
  const calls: Recorded[] = stubFetch((req) => {
    if (req.method !== 'DELETE') return { status: 200, body: { items: [a, b], nextCursor: null } };
    return deleteStatus === 204 ? { status: 204 } : { status: deleteStatus, body: { code: 'internal_error', detail: 'boom' } };
  });
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } } });
  const key = taskListQuery(defaultFilters).queryKey;
  qc.setQueryData<TaskPages>(key, { pages: [{ items: [a, b], nextCursor: null }], pageParams: [null] });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={qc}>
      <ToastProvider>{children}</ToastProvider>
    </QueryClientProvider>
  );
  const hook = renderHook(() => useUndoableDelete(), { wrapper });
  const ids = () => allTasks(qc.getQueryData<TaskPages>(key)).map((t) => t.id);
  const deletes = () => calls.filter((c) => c.method === 'DELETE').map((c) => c.url);
  return { hook, ids, deletes };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('useUndoableDelete', () => {
  it('hides the task at once and sends the DELETE only when the Undo window closes', async () => {
    const { hook, ids, deletes } = setup();
    await act(() => hook.result.current.remove(a));
    expect(ids()).toEqual(['b']);
    expect(hook.result.current.hidden).toEqual(new Set(['a']));
    expect(screen.getByText('Deleted “Task a”.')).toBeInTheDocument();
    await act(() => vi.advanceTimersByTimeAsync(UNDO_MS - 1));
    expect(deletes()).toEqual([]);
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(deletes()).toEqual(['/api/v1/tasks/a']);
    expect(hook.result.current.hidden).toEqual(new Set());
  });

  it('puts the same task back on Undo and never deletes it', async () => {
    const { hook, ids, deletes } = setup();
    await act(() => hook.result.current.remove(a));
    act(() => fireEvent.click(screen.getByRole('button', { name: 'Undo' })));
    expect(ids()).toEqual(['a', 'b']);
    expect(hook.result.current.hidden).toEqual(new Set());
    await act(() => vi.advanceTimersByTimeAsync(UNDO_MS * 2));
    expect(deletes()).toEqual([]);
  });

  it('puts the task back and says so when the server refuses the DELETE', async () => {
    const { hook, ids } = setup(500);
    await act(() => hook.result.current.remove(a));
    await act(() => vi.advanceTimersByTimeAsync(UNDO_MS));
    expect(ids()).toEqual(['a', 'b']);
    expect(hook.result.current.hidden).toEqual(new Set());
    expect(screen.getByRole('alert')).toHaveTextContent('Could not delete “Task a”:');
  });

  it('deletes at once when the page is left inside the Undo window', async () => {
    const { hook, deletes } = setup();
    await act(() => hook.result.current.remove(a));
    await act(async () => {
      window.dispatchEvent(new Event('pagehide'));
    });
    expect(deletes()).toEqual(['/api/v1/tasks/a']);
    await act(() => vi.advanceTimersByTimeAsync(UNDO_MS));
    expect(deletes()).toEqual(['/api/v1/tasks/a']);
  });

  it('flush sends every pending DELETE (for signing out), and so does unmounting', async () => {
    const { hook, deletes } = setup();
    await act(() => hook.result.current.remove(a));
    await act(() => hook.result.current.flush());
    expect(deletes()).toEqual(['/api/v1/tasks/a']);
    await act(() => hook.result.current.remove(b));
    hook.unmount();
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(deletes()).toEqual(['/api/v1/tasks/a', '/api/v1/tasks/b']);
  });
});
