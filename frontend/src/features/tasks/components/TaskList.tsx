import { useEffect, useState, type ReactNode } from 'react';
import { errorMessage } from '@/lib/api-client';
import type { Task } from '@/lib/types';
import { useTaskList, type TaskFilters } from '../api';
import { allTasks } from '../cache';
import { isFiltered } from './TaskFilters';
import { TaskItem } from './TaskItem';

/** A project's section, for grouping its tasks. */
export interface SectionRef {
  id: string;
  name: string;
}

/** Tasks outside any section first, then each section in order (empty ones too, so the
 * project's shape shows); a task whose section is unknown here counts as outside. */
export function groupBySection(tasks: Task[], sections: SectionRef[]): { section: SectionRef | null; tasks: Task[] }[] {
  const known = new Set(sections.map((s) => s.id));
  const loose = tasks.filter((t) => !t.sectionId || !known.has(t.sectionId));
  return [{ section: null, tasks: loose }, ...sections.map((section) => ({ section, tasks: tasks.filter((t) => t.sectionId === section.id) }))];
}

/** What every view of tasks needs: the clock, the zone, the tasks hidden while their delete
 * can be undone, and what to do with a task. */
export interface TaskViewProps {
  now: Date;
  timeZone: string;
  hidden: Set<string>;
  onToggle: (t: Task) => void;
  onEdit: (t: Task) => void;
  onDelete: (t: Task) => void;
  onTag: (tag: string) => void;
}

interface Props extends TaskViewProps {
  filters: TaskFilters;
  /** The project's sections, when one project is on screen: its tasks are grouped by them. */
  sections?: SectionRef[];
  /** What an empty list says, instead of the default (which talks about filters). */
  empty?: ReactNode;
  onClearFilters: () => void;
  onNew: () => void;
}

export function TaskList(p: Props) {
  const q = useTaskList(p.filters);
  // A callback ref, not useRef: the sentinel is replaced whenever the list re-renders from a
  // loading state (e.g. a new search), and the observer must follow the new element.
  const [sentinel, setSentinel] = useState<HTMLDivElement | null>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = q;

  useEffect(() => {
    const el = sentinel;
    if (!el || !hasNextPage || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
      },
      { rootMargin: '400px' },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [sentinel, hasNextPage, isFetchingNextPage, fetchNextPage]);

  if (q.isPending) {
    return (
      <div className="list-state" aria-busy="true">
        <ul className="skeleton" aria-hidden="true">
          {[0, 1, 2].map((i) => (
            <li key={i} />
          ))}
        </ul>
        <span className="sr-only">Loading tasks…</span>
      </div>
    );
  }
  if (q.isError) {
    return (
      <div className="list-state empty" role="alert">
        <p>{errorMessage(q.error)}</p>
        <button type="button" className="btn" onClick={() => void q.refetch()}>
          Try again
        </button>
      </div>
    );
  }

  const tasks = allTasks(q.data).filter((t) => !p.hidden.has(t.id));
  if (tasks.length === 0 && !p.sections?.length) return p.empty ?? <EmptyState {...p} />;
  const items = (list: Task[]) =>
    list.map((t) => <TaskItem key={t.id} task={t} now={p.now} timeZone={p.timeZone} onToggle={p.onToggle} onEdit={p.onEdit} onDelete={p.onDelete} onTag={p.onTag} />);
  const stale = q.isPlaceholderData ? ' is-stale' : '';

  return (
    <>
      {p.sections?.length ? (
        <div className={`sections${stale}`} aria-busy={q.isPlaceholderData} data-testid="task-list">
          {groupBySection(tasks, p.sections).map(({ section, tasks: inSection }) =>
            section === null ? (
              inSection.length > 0 && (
                <ul key="" className="task-list" aria-label="Tasks outside sections">
                  {items(inSection)}
                </ul>
              )
            ) : (
              <section key={section.id} className="task-section" aria-labelledby={`section-${section.id}`}>
                <h2 id={`section-${section.id}`} className="section-title">
                  {section.name} <span className="muted">{inSection.length}</span>
                </h2>
                {inSection.length ? (
                  <ul className="task-list" aria-label={`Tasks in ${section.name}`}>
                    {items(inSection)}
                  </ul>
                ) : (
                  <p className="muted section-empty">Nothing here.</p>
                )}
              </section>
            ),
          )}
        </div>
      ) : (
        <ul className={`task-list${stale}`} aria-label="Tasks" aria-busy={q.isPlaceholderData} data-testid="task-list">
          {items(tasks)}
        </ul>
      )}
      <div ref={setSentinel} className="list-end">
        {isFetchingNextPage ? (
          'Loading more…'
        ) : hasNextPage ? (
          <button type="button" className="btn btn-ghost" onClick={() => void fetchNextPage()}>
            Load more
          </button>
        ) : tasks.length > 8 ? (
          'That’s all.'
        ) : null}
      </div>
    </>
  );
}

function EmptyState({ filters, onClearFilters, onNew }: Props) {
  if (isFiltered(filters)) {
    const what = filters.search.trim() ? `match “${filters.search.trim()}”` : 'match these filters';
    return (
      <div className="list-state empty">
        <p className="empty-title">No tasks {what}.</p>
        <p>Try fewer filters, or check the spelling.</p>
        <button type="button" className="btn" onClick={onClearFilters}>
          Clear filters
        </button>
      </div>
    );
  }
  return (
    <div className="list-state empty">
      <p className="empty-title">Nothing to do. Nice.</p>
      <p>
        Type a task in the box above and press <kbd>Enter</kbd> — for example “Call Sam tomorrow 10am #home” — or open the full
        editor for dates, repeats and reminders.
      </p>
      <button type="button" className="btn btn-primary" onClick={onNew}>
        New task
      </button>
    </div>
  );
}
