import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { groupBySection } from '@/features/tasks/components/TaskList';
import { projectOf } from '@/lib/router';
import type { Project, Task } from '@/lib/types';
import { stubFetch } from '@/test/fetch';
import { DeleteProjectDialog } from '../components/DeleteProjectDialog';
import { ProjectDialog } from '../components/ProjectDialog';
import { ProjectNav } from '../components/ProjectNav';

function project(over: Partial<Project>): Project {
  return {
    id: 'p1',
    name: 'Work',
    color: 'blue',
    isInbox: false,
    archived: false,
    sections: [],
    openTaskCount: 0,
    createdAt: '2026-12-01T00:00:00Z',
    updatedAt: '2026-12-01T00:00:00Z',
    ...over,
  };
}

function wrap(children: ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={qc}>{children}</QueryClientProvider>);
}

describe('projects', () => {
  it('reads the project from its path', () => {
    expect(projectOf('/projects/0193a1b2-c3d4')).toBe('0193a1b2-c3d4');
    expect(projectOf('/projects/')).toBeNull();
    expect(projectOf('/settings')).toBeNull();
  });

  it('groups a project’s tasks by section, loose ones first and empty sections kept', () => {
    const task = (id: string, sectionId: string | null) => ({ id, sectionId }) as Task;
    const groups = groupBySection([task('a', 's2'), task('b', null), task('c', 'gone')], [
      { id: 's1', name: 'One' },
      { id: 's2', name: 'Two' },
    ]);
    expect(groups.map((g) => [g.section?.name ?? null, g.tasks.map((t) => t.id)])).toEqual([
      [null, ['b', 'c']],
      ['One', []],
      ['Two', ['a']],
    ]);
  });

  it('lists the Inbox and active projects with counts, archived ones folded away', async () => {
    stubFetch(() => ({
      status: 200,
      body: {
        items: [
          project({ id: 'in', name: 'Inbox', isInbox: true, openTaskCount: 3 }),
          project({ id: 'w', name: 'Work' }),
          project({ id: 'old', name: 'Old', archived: true }),
        ],
      },
    }));
    wrap(<ProjectNav path="/projects/w" onAdd={() => {}} />);
    const nav = screen.getByRole('navigation', { name: 'Projects' });
    expect(await within(nav).findByRole('link', { name: /Inbox/ })).toHaveAttribute('href', '/projects/in');
    expect(within(nav).getByLabelText('3 open')).toBeInTheDocument();
    expect(within(nav).getByRole('link', { name: 'Work' })).toHaveAttribute('aria-current', 'page');
    expect(within(nav).queryByRole('link', { name: 'Old' })).toBeNull();
    await userEvent.click(within(nav).getByRole('button', { name: 'Archived (1)' }));
    expect(within(nav).getByRole('link', { name: 'Old' })).toBeInTheDocument();
  });

  it('sends a new project with its sections in order, and shows the server’s field errors', async () => {
    const calls = stubFetch((req) =>
      (req.body as { name: string }).name === 'Taken'
        ? { status: 400, body: { code: 'validation_failed', detail: 'invalid', errors: [{ field: 'name', message: 'is already the name of another of your projects' }] } }
        : { status: 201, body: project({ name: 'Home' }) },
    );
    let saved: Project | null = null;
    wrap(<ProjectDialog project={null} onClose={() => {}} onSaved={(p) => (saved = p)} />);
    await userEvent.type(screen.getByLabelText('Name'), 'Taken');
    await userEvent.click(screen.getByRole('button', { name: 'Add project' }));
    expect(await screen.findByText('Is already the name of another of your projects.')).toBeInTheDocument();
    await userEvent.clear(screen.getByLabelText('Name'));
    await userEvent.type(screen.getByLabelText('Name'), 'Home');
    await userEvent.click(screen.getByRole('button', { name: 'Add section' }));
    await userEvent.type(screen.getByLabelText('Section 1'), 'Kitchen');
    await userEvent.click(screen.getByRole('button', { name: 'Add section' }));
    await userEvent.type(screen.getByLabelText('Section 2'), 'Garden');
    await userEvent.click(screen.getByRole('button', { name: 'Move section 2 up' }));
    await userEvent.click(screen.getByRole('radio', { name: 'green' }));
    await userEvent.click(screen.getByRole('button', { name: 'Add project' }));
    await screen.findByRole('button', { name: 'Add project' });
    expect(calls.at(-1)).toMatchObject({
      method: 'POST',
      url: '/api/v1/projects',
      body: { name: 'Home', color: 'green', sections: [{ name: 'Garden' }, { name: 'Kitchen' }] },
    });
    expect(saved).not.toBeNull();
  });

  it('deletes a project only once the user has said what happens to its tasks', async () => {
    const calls = stubFetch(() => ({ status: 200, body: { tasksMoved: 2, tasksDeleted: 0 } }));
    let message = '';
    wrap(<DeleteProjectDialog project={project({ openTaskCount: 2 })} onClose={() => {}} onDeleted={(m) => (message = m)} />);
    const confirm = screen.getByRole('button', { name: 'Delete project' });
    expect(confirm).toBeDisabled();
    await userEvent.click(screen.getByRole('radio', { name: 'Move them to the Inbox' }));
    await userEvent.click(confirm);
    await screen.findByRole('button', { name: 'Delete project' });
    expect(calls[0]).toMatchObject({ method: 'DELETE', url: '/api/v1/projects/p1?tasks=moveToInbox' });
    await expect.poll(() => message).toBe('Deleted “Work”; 2 tasks moved to the Inbox.');
  });
});
