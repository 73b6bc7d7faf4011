import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { queryKeys } from '@/lib/query-keys';
import type { ImportReport, Project, TodoistImportInput } from '@/lib/types';
import { stubFetch } from '@/test/fetch';
import { projectNameFromFile } from '../api';
import { ImportSection } from '../components/ImportSection';

const CSV = 'TYPE,CONTENT,PRIORITY,DATE\ntask,Write report @writing,1,2030-03-01\ntask,,4,\n';

function project(id: string, name: string): Project {
  return { id, name, color: 'grey', isInbox: name === 'Inbox', archived: false, sections: [], openTaskCount: 0, createdAt: '2026-12-01T00:00:00Z', updatedAt: '2026-12-01T00:00:00Z' };
}

function reportFor(input: TodoistImportInput): ImportReport {
  const name = input.project && 'name' in input.project && input.project.name ? input.project.name : 'Home';
  return {
    dryRun: input.dryRun,
    project: { name, created: !input.project?.id, ...(input.dryRun ? {} : { id: 'p-new' }) },
    sections: [],
    tasks: [{ row: 2, title: 'Write report', priority: 'urgent', dueAt: '2030-03-01T23:59:59Z', tags: ['writing'], ...(input.dryRun ? {} : { id: 't1' }) }],
    skipped: [{ row: 3, reason: 'title must not be empty' }],
    notes: [],
  };
}

function renderSection(onSaved: (m: string) => void = () => {}) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(queryKeys.tasks, []);
  render(
    <QueryClientProvider client={qc}>
      <ImportSection timeZone="UTC" onSaved={onSaved} />
    </QueryClientProvider>,
  );
  return qc;
}

function csvFile(text = CSV, name = 'Work.csv') {
  return new File([text], name, { type: 'text/csv' });
}

describe('ImportSection', () => {
  it('names the new project after the file', () => {
    expect(projectNameFromFile('Work.csv')).toBe('Work');
    expect(projectNameFromFile('Home stuff.CSV')).toBe('Home stuff');
  });

  it('previews the file, then imports it and refreshes the tasks', async () => {
    const calls = stubFetch((req) =>
      req.url.startsWith('/api/v1/projects')
        ? { status: 200, body: { items: [project('inbox', 'Inbox')] } }
        : { status: (req.body as TodoistImportInput).dryRun ? 200 : 201, body: reportFor(req.body as TodoistImportInput) },
    );
    const saved: string[] = [];
    const qc = renderSection((m) => saved.push(m));
    expect(screen.getByRole('button', { name: 'Import' })).toBeDisabled();
    await userEvent.upload(screen.getByLabelText('Todoist CSV file'), csvFile());
    expect(await screen.findByDisplayValue('Work')).toBe(screen.getByLabelText('New project name'));

    await userEvent.click(screen.getByRole('button', { name: 'Preview' }));
    const preview = await screen.findByRole('region', { name: 'Preview' });
    expect(within(preview).getByText(/Would import 1 task into new project “Work”/)).toBeInTheDocument();
    const row = within(preview).getByRole('row', { name: /Write report/ });
    expect(within(row).getByText('urgent')).toBeInTheDocument();
    expect(within(row).getByText('writing')).toBeInTheDocument();
    expect(within(within(preview).getByRole('list', { name: 'Skipped rows' })).getByText('Row 3: title must not be empty')).toBeInTheDocument();
    expect(calls.at(-1)).toMatchObject({ method: 'POST', url: '/api/v1/import/todoist', body: { csv: CSV, fileName: 'Work.csv', project: { name: 'Work' }, dryRun: true } });
    expect(qc.getQueryState(queryKeys.tasks)?.isInvalidated).toBe(false);

    await userEvent.click(screen.getByRole('button', { name: 'Import' }));
    expect(await screen.findByRole('region', { name: 'Import report' })).toBeInTheDocument();
    const imports = calls.filter((c) => c.url === '/api/v1/import/todoist');
    expect(imports.map((c) => (c.body as TodoistImportInput).dryRun)).toEqual([true, false]);
    expect(imports[1]).toMatchObject({ body: { dryRun: false, project: { name: 'Work' } } });
    expect(saved).toEqual(['Imported 1 task into “Work”.']);
    expect(qc.getQueryState(queryKeys.tasks)?.isInvalidated).toBe(true);
    expect(screen.getByRole('button', { name: 'Import' })).toBeDisabled();
  });

  it('imports into an existing project and shows a refused file beside its field', async () => {
    const calls = stubFetch((req) => {
      if (req.url.startsWith('/api/v1/projects')) return { status: 200, body: { items: [project('inbox', 'Inbox'), project('p2', 'Home')] } };
      const input = req.body as TodoistImportInput;
      return input.csv.startsWith('TYPE')
        ? { status: 200, body: reportFor(input) }
        : { status: 400, body: { code: 'validation_failed', detail: 'invalid', errors: [{ field: 'csv', message: 'is not a Todoist export: the header row needs TYPE and CONTENT columns' }] } };
    });
    renderSection();
    await userEvent.upload(screen.getByLabelText('Todoist CSV file'), csvFile('name,notes\nMilk,2\n', 'list.csv'));
    await screen.findByDisplayValue('list');
    await userEvent.click(screen.getByRole('button', { name: 'Preview' }));
    expect(await screen.findByText('Is not a Todoist export: the header row needs TYPE and CONTENT columns.')).toBeInTheDocument();

    await userEvent.upload(screen.getByLabelText('Todoist CSV file'), csvFile());
    await screen.findByDisplayValue('Work');
    await userEvent.click(screen.getByRole('radio', { name: 'An existing project' }));
    await screen.findByRole('option', { name: 'Home' });
    await userEvent.selectOptions(screen.getByLabelText('Project'), 'p2');
    await userEvent.click(screen.getByRole('button', { name: 'Preview' }));
    expect(await screen.findByText(/Would import 1 task into “Home”/)).toBeInTheDocument();
    expect(calls.at(-1)).toMatchObject({ body: { project: { id: 'p2' }, dryRun: true } });
  });
});
