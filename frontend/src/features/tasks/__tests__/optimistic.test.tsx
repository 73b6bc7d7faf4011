import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { stubFetch } from '@/test/fetch';
import { makeTask } from '@/test/tasks';
import { defaultFilters, hideTask, taskListQuery, useSetCompleted, useUpdateTask } from '../api';
import { allTasks, type TaskPages } from '../cache';

function setup() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } } });
  const key = taskListQuery(defaultFilters).queryKey;
  const pages: TaskPages = { pages: [{ items: [makeTask('a'), makeTask('b')], nextCursor: null }], pageParams: [null] };
  qc.setQueryData(key, pages);
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={qc}>{children}</QueryClientProvider>;
  const read = () => allTasks(qc.getQueryData<TaskPages>(key));
  return { qc, wrapper, read, pages };
}

describe('optimistic updates', () => {
  it('shows a completion at once and puts the task back when the server refuses', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    stubFetch(async (req) => {
      if (req.method === 'POST') {
        await gate;
        return { status: 500, body: { code: 'internal_error', detail: 'boom' } };
      }
      return new Promise<never>(() => undefined);
    });
    const { wrapper, read } = setup();
    const { result } = renderHook(() => useSetCompleted(), { wrapper });
    act(() => result.current.mutate({ id: 'a', completed: true }));
    await waitFor(() => expect(read().find((t) => t.id === 'a')?.completed).toBe(true));
    release();
    await waitFor(() => expect(result.current.isError).toBe(true));
    expect(read().find((t) => t.id === 'a')?.completed).toBe(false);
    expect(result.current.error?.message).toBe('Boom.');
  });

  it('keeps the server version of an edit when it succeeds', async () => {
    stubFetch((req) =>
      req.method === 'PATCH' ? { status: 200, body: makeTask('b', { title: 'Renamed', priority: 'urgent' }) } : new Promise<never>(() => undefined),
    );
    const { wrapper, read } = setup();
    const { result } = renderHook(() => useUpdateTask(), { wrapper });
    await act(() => result.current.mutateAsync({ id: 'b', patch: { title: 'Renamed' } }));
    expect(read().find((t) => t.id === 'b')).toMatchObject({ title: 'Renamed', priority: 'urgent' });
  });

  it('rolls an edit back on a validation error', async () => {
    stubFetch((req) =>
      req.method === 'PATCH'
        ? { status: 400, body: { code: 'validation_failed', errors: [{ field: 'title', message: 'must be at most 200 characters' }] } }
        : new Promise<never>(() => undefined),
    );
    const { wrapper, read } = setup();
    const { result } = renderHook(() => useUpdateTask(), { wrapper });
    await act(async () => {
      await result.current.mutateAsync({ id: 'b', patch: { title: 'x'.repeat(300) } }).catch(() => undefined);
    });
    expect(read().find((t) => t.id === 'b')?.title).toBe('Task b');
    // The hook's error state lands in a render after the rejected promise settles.
    await waitFor(() => expect(result.current.error).toMatchObject({ fields: { title: 'Must be at most 200 characters.' } }));
  });

  it('hides a task to be deleted and can bring it back (undo)', async () => {
    const { qc, read } = setup();
    const undo = await hideTask(qc, 'a');
    expect(read().map((t) => t.id)).toEqual(['b']);
    undo();
    expect(read().map((t) => t.id)).toEqual(['a', 'b']);
  });
});
