import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Task } from '@/lib/types';
import { stubFetch, type Recorded } from '@/test/fetch';
import { makeTask } from '@/test/tasks';
import { TaskEditor } from '../components/TaskEditor';
import { TaskItem } from '../components/TaskItem';
import { describeEstimate, formatEstimate } from '../estimate';
import { apiFieldToForm, emptyForm, formFromTask, toCreateInput, toUpdateInput, validateTask } from '../form';

const noop = () => undefined;

describe('how an estimate reads', () => {
  it('is compact on the row and in words for screen readers', () => {
    const cases: [number, string, string][] = [
      [1, '1 min', '1 minute'],
      [45, '45 min', '45 minutes'],
      [60, '1 h', '1 hour'],
      [90, '1 h 30', '1 hour 30 minutes'],
      [125, '2 h 05', '2 hours 5 minutes'],
      [1440, '24 h', '24 hours'],
    ];
    expect(cases.map(([m]) => [m, formatEstimate(m), describeEstimate(m)])).toEqual(cases);
  });

  it('shows beside the other details of a task row, and nothing without one', () => {
    const row = { now: new Date('2026-11-02T00:00:00Z'), timeZone: 'UTC', onToggle: noop, onEdit: noop, onDelete: noop, onTag: noop };
    const { rerender } = render(<TaskItem {...row} task={makeTask('t', { estimateMinutes: 90 })} />);
    const estimate = document.querySelector('.task-meta .estimate');
    expect(estimate).toHaveTextContent('1 h 30');
    expect(within(estimate as HTMLElement).getByText('estimated 1 hour 30 minutes')).toHaveClass('sr-only');
    rerender(<TaskItem {...row} task={makeTask('t', { estimateMinutes: null })} />);
    expect(document.querySelector('.estimate')).toBeNull();
  });
});

describe('the estimate in the task form', () => {
  it('is sent when set, changed or cleared, and only then', () => {
    const before = formFromTask(makeTask('t', { estimateMinutes: 45 }), 'UTC');
    expect(before.estimate).toBe('45');
    expect(toUpdateInput(before, before, 'UTC')).toEqual({});
    expect(toUpdateInput(before, { ...before, estimate: ' 45 ' }, 'UTC')).toEqual({});
    expect(toUpdateInput(before, { ...before, estimate: '90' }, 'UTC')).toEqual({ estimateMinutes: 90 });
    expect(toUpdateInput(before, { ...before, estimate: '' }, 'UTC')).toEqual({ estimateMinutes: null });
    expect(toCreateInput({ ...emptyForm, title: 'Read', estimate: '30' }, 'UTC')).toEqual({ title: 'Read', priority: 'medium', estimateMinutes: 30 });
    expect(toCreateInput({ ...emptyForm, title: 'Read' }, 'UTC')).not.toHaveProperty('estimateMinutes');
  });

  it('takes whole minutes from 1 to 1440, and maps the server’s field onto it', () => {
    for (const bad of ['0', '1441', '2.5', 'x']) expect(validateTask({ ...emptyForm, title: 'x', estimate: bad }).estimate).toMatch(/1 to 1440/);
    expect(validateTask({ ...emptyForm, title: 'x', estimate: '1440' })).toEqual({});
    expect(apiFieldToForm('estimateMinutes')).toBe('estimate');
  });
});

describe('the task editor', () => {
  /** Renders the editor on `task`, the server answering PATCH with the task as changed. */
  function edit(task: Task, reply?: (body: unknown) => { status: number; body: unknown }) {
    const calls = stubFetch((req) => {
      if (req.method === 'PATCH') return reply?.(req.body) ?? { status: 200, body: { ...task, ...(req.body as object) } };
      if (req.url.endsWith('/projects')) return { status: 200, body: { items: [] } };
      return { status: 200, body: { items: [], nextCursor: null } };
    });
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
    const saved: string[] = [];
    render(
      <QueryClientProvider client={qc}>
        <TaskEditor task={task} timeZone="UTC" defaultOffset={30} onClose={noop} onSaved={(m) => saved.push(m)} />
      </QueryClientProvider>,
    );
    const patches = () => calls.filter((c: Recorded) => c.method === 'PATCH').map((c) => [c.url, c.body]);
    return { saved, patches };
  }
  const save = () => userEvent.click(screen.getByRole('button', { name: 'Save changes' }));

  it('sets an estimate from a quick choice', async () => {
    const { saved, patches } = edit(makeTask('t1'));
    const choice = screen.getByRole('button', { name: '1 hour 30 minutes' });
    expect(choice).toHaveTextContent('1 h 30');
    await userEvent.click(choice);
    expect(choice).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByLabelText('Estimate')).toHaveValue(90);
    await save();
    await expect.poll(() => saved).toEqual(['Changes saved.']);
    expect(patches()).toEqual([['/api/v1/tasks/t1', { estimateMinutes: 90 }]]);
  });

  it('changes an estimate to a typed number', async () => {
    const { saved, patches } = edit(makeTask('t1', { estimateMinutes: 30 }));
    expect(screen.getByRole('button', { name: '30 minutes' })).toHaveAttribute('aria-pressed', 'true');
    await userEvent.clear(screen.getByLabelText('Estimate'));
    await userEvent.type(screen.getByLabelText('Estimate'), '50');
    await save();
    await expect.poll(() => saved).toEqual(['Changes saved.']);
    expect(patches()).toEqual([['/api/v1/tasks/t1', { estimateMinutes: 50 }]]);
  });

  it('clears an estimate with null', async () => {
    const { saved, patches } = edit(makeTask('t1', { estimateMinutes: 120 }));
    await userEvent.click(screen.getByRole('button', { name: 'No estimate' }));
    expect(screen.getByLabelText('Estimate')).toHaveValue(null);
    await save();
    await expect.poll(() => saved).toEqual(['Changes saved.']);
    expect(patches()).toEqual([['/api/v1/tasks/t1', { estimateMinutes: null }]]);
  });

  it('keeps an estimate out of range from the server, and shows the server’s message on the field', async () => {
    const { saved, patches } = edit(makeTask('t1'), () => ({
      status: 400,
      body: { code: 'validation_failed', detail: 'invalid', errors: [{ field: 'estimateMinutes', message: 'must be between 1 and 1440' }] },
    }));
    const input = screen.getByLabelText('Estimate');
    await userEvent.type(input, '2000');
    await save();
    expect(input).toHaveAccessibleDescription('Estimate 1 to 1440 minutes (24 hours), or leave it empty.');
    expect(patches()).toEqual([]);
    await userEvent.clear(input);
    await userEvent.type(input, '20');
    await save();
    await expect.poll(() => input.getAttribute('aria-invalid')).toBe('true');
    expect(input).toHaveAccessibleDescription('Must be between 1 and 1440.');
    expect(patches()).toEqual([['/api/v1/tasks/t1', { estimateMinutes: 20 }]]);
    expect(saved).toEqual([]);
  });
});
