import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { stubFetch } from '@/test/fetch';
import { QuickAdd } from '../components/QuickAdd';

const TEXT = 'Submit report fri !high #work';

function renderQuickAdd(projectId?: string) {
  const onCreated = vi.fn();
  const onError = vi.fn();
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <QuickAdd timeZone="UTC" projectId={projectId} onCreated={onCreated} onError={onError} />
    </QueryClientProvider>,
  );
  return { onCreated, onError, input: screen.getByLabelText('Quick add a task') };
}

describe('QuickAdd', () => {
  it('highlights what the parser recognised and creates the parsed task on Enter', async () => {
    const calls = stubFetch((req) => {
      if (req.url.endsWith('/tasks/parse')) {
        const text = (req.body as { text: string }).text;
        return {
          status: 200,
          body:
            text === TEXT
              ? {
                  task: { title: 'Submit report', priority: 'high', tags: ['work'], dueAt: '2026-12-04' },
                  spans: [
                    { start: 14, end: 17, kind: 'date', text: 'fri' },
                    { start: 18, end: 23, kind: 'priority', text: '!high' },
                    { start: 24, end: 29, kind: 'tag', text: '#work' },
                  ],
                }
              : { task: { title: text }, spans: [] },
        };
      }
      return { status: 201, body: { id: 'n', title: 'Submit report' } };
    });
    const { input, onCreated } = renderQuickAdd();
    await userEvent.type(input, TEXT);
    await waitFor(() => expect(document.querySelectorAll('mark')).toHaveLength(3));
    expect([...document.querySelectorAll('mark')].map((m) => [m.className, m.textContent])).toEqual([
      ['hl hl-date', 'fri'],
      ['hl hl-priority', '!high'],
      ['hl hl-tag', '#work'],
    ]);
    expect(screen.getByText('Priority high')).toBeInTheDocument();
    expect(document.querySelector('.chip-tag')).toHaveTextContent('#work');
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(onCreated).toHaveBeenCalledWith('Submit report'));
    const create = calls.find((c) => c.url === '/api/v1/tasks' && c.method === 'POST');
    expect(create?.body).toEqual({ title: 'Submit report', priority: 'high', tags: ['work'], dueAt: '2026-12-04' });
    expect(input).toHaveValue('');
  });

  it('creates a plain task when the server has no parser', async () => {
    const calls = stubFetch((req) =>
      req.url.endsWith('/tasks/parse') ? { status: 404, body: { code: 'not_found', detail: 'not found' } } : { status: 201, body: { id: 'n' } },
    );
    const { input, onCreated } = renderQuickAdd();
    await userEvent.type(input, 'Call Sam tomorrow{Enter}');
    await waitFor(() => expect(onCreated).toHaveBeenCalledWith('Call Sam tomorrow'));
    expect(calls.find((c) => c.url === '/api/v1/tasks')?.body).toEqual({ title: 'Call Sam tomorrow' });
    expect(document.querySelectorAll('mark')).toHaveLength(0);
  });

  it('keeps the text and reports the reason when creating fails', async () => {
    stubFetch((req) =>
      req.url.endsWith('/tasks/parse')
        ? { status: 404 }
        : { status: 400, body: { code: 'validation_failed', errors: [{ field: 'title', message: 'must be at most 200 characters' }] } },
    );
    const { input, onError } = renderQuickAdd();
    await userEvent.type(input, 'Too long{Enter}');
    await waitFor(() => expect(onError).toHaveBeenCalledWith('Title must be at most 200 characters.'));
    expect(input).toHaveValue('Too long');
    // Kept for a lost session as well.
    expect(sessionStorage.getItem('draft:quick-add')).toBe('"Too long"');
  });

  it('highlights a project and a section apart, describes them, and files the task there', async () => {
    const line = 'Plan #Work /Doing';
    const calls = stubFetch((req) => {
      if (req.url.endsWith('/tasks/parse')) {
        const text = (req.body as { text: string }).text;
        return {
          status: 200,
          body:
            text === line
              ? {
                  task: { title: 'Plan', projectId: 'p-work', sectionId: 's-doing' },
                  spans: [
                    { start: 5, end: 10, kind: 'project', text: '#Work' },
                    { start: 11, end: 17, kind: 'section', text: '/Doing' },
                  ],
                }
              : { task: { title: text }, spans: [] },
        };
      }
      return { status: 201, body: { id: 'n', title: 'Plan' } };
    });
    const { input, onCreated } = renderQuickAdd('p-inbox');
    await userEvent.type(input, line);
    await waitFor(() => expect(document.querySelectorAll('mark')).toHaveLength(2));
    expect([...document.querySelectorAll('mark')].map((m) => [m.className, m.textContent])).toEqual([
      ['hl hl-project', '#Work'],
      ['hl hl-section', '/Doing'],
    ]);
    expect(input).toHaveAccessibleDescription('Project WorkSection Doing');
    // The project on screen goes with the line, for a `/Section` typed without a project.
    const parse = calls.find((c) => c.url.endsWith('/tasks/parse') && (c.body as { text: string }).text === line);
    expect(parse?.body).toEqual({ text: line, projectId: 'p-inbox' });
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(onCreated).toHaveBeenCalledWith('Plan'));
    const create = calls.find((c) => c.url === '/api/v1/tasks' && c.method === 'POST');
    expect(create?.body).toEqual({ title: 'Plan', projectId: 'p-work', sectionId: 's-doing' });
  });
});
