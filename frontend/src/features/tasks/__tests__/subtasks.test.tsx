import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, fireEvent, render, renderHook, screen, waitFor, within } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { Task } from '@/lib/types';
import { stubFetch } from '@/test/fetch';
import { makeTask } from '@/test/tasks';
import { defaultFilters, taskListQuery, useMoveTask, type TaskFilters } from '../api';
import { allTasks, applyMove, setCompletedInCache, type TaskPages } from '../cache';
import { useConfirmedToggle } from '../components/ConfirmComplete';
import { TaskItem } from '../components/TaskItem';
import { TaskList } from '../components/TaskList';
import { compareManual } from '../order';

const pagesOf = (items: Task[]): TaskPages => ({ pages: [{ items, nextCursor: null }], pageParams: [null] });
const manual: TaskFilters = { ...defaultFilters, projectId: 'inbox', sort: 'position', order: 'asc' };

function client() {
  return new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } } });
}
const noop = () => undefined;
const viewProps = { now: new Date('2026-11-02T00:00:00Z'), timeZone: 'UTC', hidden: new Set<string>(), onToggle: noop, onEdit: noop, onDelete: noop, onTag: noop };

describe('the subtask badge', () => {
  it('shows done/total with a spoken label, and nothing without subtasks', () => {
    const { rerender } = render(<TaskItem {...viewProps} task={makeTask('p', { title: 'Pack', subtasks: { total: 3, done: 1 } })} />);
    expect(screen.getByRole('img', { name: '1 of 3 subtasks done' })).toHaveTextContent('1/3');
    rerender(<TaskItem {...viewProps} task={makeTask('p', { title: 'Pack' })} />);
    expect(screen.queryByRole('img', { name: /subtasks done/ })).toBeNull();
  });
});

describe('completing a parent', () => {
  function Harness({ task, toggle }: { task: Task; toggle: (t: Task) => void }) {
    const c = useConfirmedToggle(toggle);
    return (
      <>
        <button type="button" onClick={() => c.toggle(task)}>
          Done
        </button>
        {c.dialog}
      </>
    );
  }

  it('asks first when subtasks are open, and completes only on Complete', () => {
    const toggle = vi.fn();
    const task = makeTask('p', { title: 'Pack', subtasks: { total: 3, done: 1 } });
    render(<Harness task={task} toggle={toggle} />);
    fireEvent.click(screen.getByRole('button', { name: 'Done' }));
    const dialog = screen.getByRole('dialog');
    expect(dialog).toHaveTextContent('Complete “Pack” and its 2 open subtasks?');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(toggle).not.toHaveBeenCalled();
    expect(screen.queryByRole('dialog')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Done' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Complete' }));
    expect(toggle).toHaveBeenCalledWith(task);
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('completes at once when every subtask is done, or there are none, or it is being reopened', () => {
    const toggle = vi.fn();
    for (const task of [
      makeTask('a', { subtasks: { total: 2, done: 2 } }),
      makeTask('b'),
      makeTask('c', { completed: true, subtasks: { total: 2, done: 0 } }),
    ]) {
      const { unmount } = render(<Harness task={task} toggle={toggle} />);
      fireEvent.click(screen.getByRole('button', { name: 'Done' }));
      expect(screen.queryByRole('dialog')).toBeNull();
      expect(toggle).toHaveBeenLastCalledWith(task);
      unmount();
    }
  });

  it('marks the open subtasks done in the cache and counts a subtask on its parent', () => {
    const data = pagesOf([
      makeTask('p', { subtasks: { total: 3, done: 1 } }),
      makeTask('s1', { parentId: 'p' }),
      makeTask('s2', { parentId: 'p', completed: true, completedAt: '2026-11-01T00:00:00Z' }),
      makeTask('s3', { parentId: 'p' }),
      makeTask('x'),
    ]);
    const done = allTasks(setCompletedInCache(data, 'p', true, '2026-11-02T00:00:00Z'));
    expect(done.map((t) => [t.id, t.completed])).toEqual([
      ['p', true],
      ['s1', true],
      ['s2', true],
      ['s3', true],
      ['x', false],
    ]);
    expect(done[0]?.subtasks).toEqual({ total: 3, done: 3 });
    expect(done[2]?.completedAt).toBe('2026-11-01T00:00:00Z');

    const one = allTasks(setCompletedInCache(data, 's1', true, '2026-11-02T00:00:00Z'));
    expect(one[0]?.subtasks).toEqual({ total: 3, done: 2 });
    const reopened = allTasks(setCompletedInCache(data, 's2', false, '2026-11-02T00:00:00Z'));
    expect(reopened[0]?.subtasks).toEqual({ total: 3, done: 0 });
    expect(reopened[1]?.completed).toBe(false);
  });
});

describe('the optimistic reorder', () => {
  const tasks = () => [makeTask('a', { title: 'A', position: '4' }), makeTask('b', { title: 'B', position: '8' }), makeTask('c', { title: 'C', position: 'c' })];
  const order = (d: TaskPages | undefined) => allTasks(d).sort(compareManual).map((t) => t.id);

  it('computes the new order in the cache, in another section too', () => {
    const data = pagesOf(tasks());
    expect(order(applyMove(data, 'c', { afterId: 'a' }))).toEqual(['a', 'c', 'b']);
    expect(order(applyMove(data, 'c', { afterId: null }))).toEqual(['c', 'a', 'b']);
    expect(order(applyMove(data, 'a', { afterId: 'c' }))).toEqual(['b', 'c', 'a']);
    const moved = allTasks(applyMove(data, 'a', { afterId: null, sectionId: 'beds' })).find((t) => t.id === 'a');
    expect(moved?.sectionId).toBe('beds');
    expect(order(data)).toEqual(['a', 'b', 'c']);
  });

  it('shows the move at once, takes the server key, and rolls back when refused', async () => {
    const qc = client();
    const key = taskListQuery(manual).queryKey;
    qc.setQueryData(key, pagesOf(tasks()));
    let answer!: (ok: boolean) => void;
    stubFetch(async (req) => {
      if (req.method !== 'POST') return new Promise<never>(() => undefined);
      const ok = await new Promise<boolean>((r) => (answer = r));
      return ok ? { status: 200, body: makeTask('c', { title: 'C', position: '5' }) } : { status: 409, body: { code: 'conflict', detail: 'no' } };
    });
    const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={qc}>{children}</QueryClientProvider>;
    const { result } = renderHook(() => useMoveTask(), { wrapper });
    act(() => result.current.mutate({ id: 'c', move: { afterId: 'a' } }));
    await waitFor(() => expect(order(qc.getQueryData(key))).toEqual(['a', 'c', 'b']));
    act(() => answer(true));
    await waitFor(() => expect(allTasks(qc.getQueryData<TaskPages>(key)).find((t) => t.id === 'c')?.position).toBe('5'));

    qc.setQueryData(key, pagesOf(tasks()));
    act(() => result.current.mutate({ id: 'a', move: { afterId: 'c' } }));
    await waitFor(() => expect(order(qc.getQueryData(key))).toEqual(['b', 'c', 'a']));
    act(() => answer(false));
    await waitFor(() => expect(result.current.isError).toBe(true));
    expect(order(qc.getQueryData(key))).toEqual(['a', 'b', 'c']);
  });
});

describe('a list in manual order', () => {
  function renderList(items: Task[]) {
    const qc = client();
    qc.setQueryData(taskListQuery(manual).queryKey, pagesOf(items));
    const onError = vi.fn();
    render(
      <QueryClientProvider client={qc}>
        <TaskList {...viewProps} filters={manual} onClearFilters={noop} onNew={noop} onError={onError} />
      </QueryClientProvider>,
    );
    const rows = () => [...document.querySelectorAll<HTMLElement>('li.task')].map((li) => li.dataset.taskId);
    return { rows, onError };
  }

  it('nests subtasks under their parent with a collapse toggle', () => {
    const { rows } = renderList([
      makeTask('p', { title: 'Pack', position: '4', subtasks: { total: 2, done: 0 } }),
      makeTask('q', { title: 'Quit', position: '8' }),
      makeTask('s2', { title: 'Shoes', parentId: 'p', position: 'c' }),
      makeTask('s1', { title: 'Socks', parentId: 'p', position: '2' }),
    ]);
    expect(rows()).toEqual(['p', 's1', 's2', 'q']);
    expect(document.querySelector('[data-task-id="s1"]')).toHaveClass('task-nested');
    const toggle = screen.getByRole('button', { name: 'Subtasks of “Pack”' });
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    fireEvent.click(toggle);
    expect(rows()).toEqual(['p', 'q']);
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
  });

  it('moves a row down with Alt+ArrowDown, announces it, and rolls back with an error when refused', async () => {
    let refuse!: () => void;
    const refused = new Promise<void>((r) => (refuse = r));
    const items = [makeTask('a', { title: 'A', position: '4' }), makeTask('b', { title: 'B', position: '8' }), makeTask('c', { title: 'C', position: 'c' })];
    // After the move, the list is fetched again: the server still has the old order.
    const calls = stubFetch(async (req) => {
      if (req.method !== 'POST') return { status: 200, body: { items, nextCursor: null } };
      await refused;
      return { status: 404, body: { code: 'not_found', detail: 'gone' } };
    });
    const { rows, onError } = renderList(items);
    expect(screen.getByRole('button', { name: 'Move “A” up' })).toBeDisabled();
    fireEvent.keyDown(screen.getByRole('button', { name: 'Edit “A”' }), { key: 'ArrowDown', altKey: true });
    expect(screen.getByRole('status')).toHaveTextContent('Moved “A” after “B”.');
    await waitFor(() => expect(rows()).toEqual(['b', 'a', 'c']));
    act(() => refuse());
    await waitFor(() => expect(onError).toHaveBeenCalled());
    expect(rows()).toEqual(['a', 'b', 'c']);
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({ url: expect.stringContaining('/tasks/a/move'), body: { afterId: 'b' } });
  });

  it('Move up from the third place goes after the first', async () => {
    const items = [makeTask('a', { title: 'A', position: '4' }), makeTask('b', { title: 'B', position: '8' }), makeTask('c', { title: 'C', position: 'c' })];
    const moved = makeTask('c', { title: 'C', position: '6' });
    const calls = stubFetch((req) =>
      req.method === 'POST' ? { status: 200, body: moved } : { status: 200, body: { items: [items[0], moved, items[1]], nextCursor: null } },
    );
    const { rows } = renderList(items);
    fireEvent.click(screen.getByRole('button', { name: 'Move “C” up' }));
    await waitFor(() => expect(rows()).toEqual(['a', 'c', 'b']));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ afterId: 'a' });
  });
});
