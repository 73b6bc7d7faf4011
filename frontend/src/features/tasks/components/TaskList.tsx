import { useOnline } from '@/lib/online';
import { useCallback, useEffect, useRef, useState, type DragEvent, type KeyboardEvent, type ReactNode } from 'react';
import { errorMessage } from '@/lib/api-client';
import type { Task } from '@/lib/types';
import { useCreateTask, useMoveTask, useTaskList, type TaskFilters } from '../api';
import { allTasks } from '../cache';
import { compareManual, dropOnSection, dropOnTask, moveBy, nestSubtasks, type Move } from '../order';
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
  /** Reports a failed move or subtask. */
  onError?: (message: string) => void;
}

function toggled(set: ReadonlySet<string>, id: string): ReadonlySet<string> {
  const next = new Set(set);
  if (!next.delete(id)) next.add(id);
  return next;
}

export function TaskList(p: Props) {
  const q = useTaskList(p.filters);
  // A callback ref, not useRef: the sentinel is replaced whenever the list re-renders from a
  // loading state (e.g. a new search), and the observer must follow the new element.
  const [sentinel, setSentinel] = useState<HTMLDivElement | null>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = q;
  const manual = p.filters.sort === 'position';
  const move = useMoveTask((e) => p.onError?.(`Could not move the task: ${errorMessage(e)}`));
  const online = useOnline();
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [addingTo, setAddingTo] = useState<string | null>(null);
  const [dragId, setDragId] = useState<string | null>(null);
  const [over, setOver] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');
  // A row moved from the keyboard keeps the focus: React moves a reordered row's element,
  // which drops the focus to the page; this puts it back on the same control after each render.
  const keepFocus = useRef<{ id: string; selector: string } | null>(null);
  useEffect(() => {
    const k = keepFocus.current;
    if (!k) return;
    const row = document.querySelector(`[data-task-id="${CSS.escape(k.id)}"]`);
    const active = document.activeElement;
    if (active && active !== document.body) {
      if (!row?.contains(active)) keepFocus.current = null;
      return;
    }
    const target = row?.querySelector<HTMLButtonElement>(k.selector);
    (target && !target.disabled ? target : row?.querySelector<HTMLElement>('.task-title'))?.focus();
  });
  const toggleCollapsed = useCallback((t: Task) => setCollapsed((c) => toggled(c, t.id)), []);
  const openSubtaskInput = useCallback((t: Task) => {
    setCollapsed((c) => (c.has(t.id) ? toggled(c, t.id) : c));
    setAddingTo(t.id);
  }, []);

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

  let tasks = allTasks(q.data).filter((t) => !p.hidden.has(t.id));
  // The cache may hold a task moved here before the server confirmed it: sort as the server does.
  if (manual) tasks = [...tasks].sort(compareManual);
  if (tasks.length === 0 && !p.sections?.length) return p.empty ?? <EmptyState {...p} />;
  const titles = new Map(tasks.map((t) => [t.id, t.title]));
  const titleOf = (id: string) => titles.get(id) ?? 'another task';
  const dragged = dragId ? tasks.find((t) => t.id === dragId) : undefined;

  const place = (task: Task, m: Move, where: string, fromKeyboard = false) => {
    // Offline the order is read-only (drag is off in TaskItem; this covers Alt+arrows).
    if (!online) return;
    const label = fromKeyboard ? document.activeElement?.getAttribute('aria-label') : null;
    keepFocus.current = fromKeyboard ? { id: task.id, selector: label ? `[aria-label="${CSS.escape(label)}"]` : '.task-title' } : null;
    move.mutate({ id: task.id, move: m });
    setAnnouncement(`Moved “${task.title}” ${m.afterId ? `after “${titleOf(m.afterId)}”` : where}.`);
  };
  const stopDrag = () => {
    setDragId(null);
    setOver(null);
  };
  const dropped = (e: DragEvent) => {
    e.preventDefault();
    e.stopPropagation();
    const id = e.dataTransfer.getData('text/x-task-id') || dragId;
    stopDrag();
    return tasks.find((t) => t.id === id);
  };
  const dropZone = (key: string, sectionId: string | null, where: string) => ({
    onDragOver: (e: DragEvent) => {
      if (!dragId) return;
      e.preventDefault();
      setOver(key);
    },
    onDragLeave: () => setOver((o) => (o === key ? null : o)),
    onDrop: (e: DragEvent) => {
      const task = dropped(e);
      const m = task && dropOnSection(task, sectionId);
      if (task && m) place(task, m, where);
    },
  });

  const items = (list: Task[], section: SectionRef | null) => {
    const where = section ? `to the top of ${section.name}` : p.sections?.length ? 'to the top, outside sections' : 'to the top';
    const rows = nestSubtasks(list, titles, collapsed).map((row) => {
      const t = row.task;
      const siblings = list.filter((x) => (x.parentId ?? null) === (t.parentId ?? null));
      const up = manual ? moveBy(siblings, t.id, 'up') : null;
      const down = manual ? moveBy(siblings, t.id, 'down') : null;
      const firstWhere = t.parentId ? `to the top of the subtasks of “${titleOf(t.parentId)}”` : where;
      return (
        <TaskItem
          key={t.id}
          task={t}
          now={p.now}
          timeZone={p.timeZone}
          onToggle={p.onToggle}
          onEdit={p.onEdit}
          onDelete={p.onDelete}
          onTag={p.onTag}
          nested={row.nested}
          parentTitle={row.parentTitle}
          expanded={row.children > 0 ? !collapsed.has(t.id) : undefined}
          onToggleExpanded={toggleCollapsed}
          onAddSubtask={openSubtaskInput}
          {...(manual && {
            onDragStart: (e: DragEvent) => {
              e.dataTransfer.setData('text/x-task-id', t.id);
              e.dataTransfer.effectAllowed = 'move';
              setDragId(t.id);
            },
            onDragOver: (e: DragEvent) => {
              if (!dragged || !dropOnTask(dragged, t, tasks)) return;
              e.preventDefault();
              e.stopPropagation();
              setOver(t.id);
            },
            onDragLeave: () => setOver((o) => (o === t.id ? null : o)),
            onDrop: (e: DragEvent) => {
              const task = dropped(e);
              const m = task && dropOnTask(task, t, tasks);
              if (task && m) place(task, m, where);
            },
            dropping: over === t.id,
            onKeyDown: (e: KeyboardEvent) => {
              if (!e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') || e.target !== e.currentTarget && (e.target as HTMLElement).tagName === 'SELECT') return;
              e.preventDefault();
              const m = e.key === 'ArrowUp' ? up : down;
              if (m) place(t, m, firstWhere, true);
            },
            actions: (
              <span className="move-btns">
                <button type="button" className="icon-btn" disabled={!up || !online} onClick={() => up && place(t, up, firstWhere, true)} aria-label={`Move “${t.title}” up`} title="Move up (Alt+↑)">
                  <span aria-hidden="true">↑</span>
                </button>
                <button type="button" className="icon-btn" disabled={!down || !online} onClick={() => down && place(t, down, firstWhere, true)} aria-label={`Move “${t.title}” down`} title="Move down (Alt+↓)">
                  <span aria-hidden="true">↓</span>
                </button>
              </span>
            ),
          })}
        />
      );
    });
    if (addingTo) {
      // The input goes under the parent's last subtask shown (or the parent itself).
      let at = -1;
      nestSubtasks(list, titles, collapsed).forEach((row, i) => {
        if (row.task.id === addingTo || (row.nested && row.task.parentId === addingTo)) at = i;
      });
      const parent = tasks.find((t) => t.id === addingTo);
      if (at >= 0 && parent) rows.splice(at + 1, 0, <SubtaskInput key="subtask-input" parent={parent} onClose={() => setAddingTo(null)} onError={p.onError} />);
    }
    return rows;
  };
  const stale = q.isPlaceholderData ? ' is-stale' : '';
  // Always there in manual order (hidden until a task is dragged), so the rows do not shift
  // under the pointer when a drag starts.
  const topZone = manual && (
    <p
      className={`section-empty drop-zone${dragged && !dragged.parentId ? ' is-active' : ''}${over === 'top' ? ' drop-over' : ''}`}
      {...dropZone('top', null, p.sections?.length ? 'to the top, outside sections' : 'to the top')}
    >
      Drop here to put it first{p.sections?.length ? ', outside sections' : ''}
    </p>
  );
  return (
    <>
      <p className="sr-only" role="status" aria-live="polite">
        {announcement}
      </p>
      {p.sections?.length ? (
        <div className={`sections${stale}`} aria-busy={q.isPlaceholderData} data-testid="task-list" onDragEnd={stopDrag}>
          {topZone}
          {groupBySection(tasks, p.sections).map(({ section, tasks: inSection }) =>
            section === null ? (
              inSection.length > 0 && (
                <ul key="" className="task-list" aria-label="Tasks outside sections">
                  {items(inSection, null)}
                </ul>
              )
            ) : (
              <section key={section.id} className="task-section" aria-labelledby={`section-${section.id}`}>
                <h2
                  id={`section-${section.id}`}
                  className={`section-title${over === section.id ? ' drop-over' : ''}`}
                  {...(manual && dropZone(section.id, section.id, `to the top of ${section.name}`))}
                >
                  {section.name} <span className="muted">{inSection.length}</span>
                </h2>
                {inSection.length ? (
                  <ul className="task-list" aria-label={`Tasks in ${section.name}`}>
                    {items(inSection, section)}
                  </ul>
                ) : (
                  <p
                    className={`muted section-empty${over === section.id ? ' drop-over' : ''}`}
                    {...(manual && dropZone(section.id, section.id, `to the top of ${section.name}`))}
                  >
                    Nothing here.
                  </p>
                )}
              </section>
            ),
          )}
        </div>
      ) : (
        <>
          {topZone}
          <ul className={`task-list${stale}`} aria-label="Tasks" aria-busy={q.isPlaceholderData} data-testid="task-list" onDragEnd={stopDrag}>
            {items(tasks, null)}
          </ul>
        </>
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

/** The inline box under a parent: Enter adds a subtask and keeps the box for the next one. */
function SubtaskInput({ parent, onClose, onError }: { parent: Task; onClose: () => void; onError?: (message: string) => void }) {
  const create = useCreateTask();
  const [title, setTitle] = useState('');
  return (
    <li className="task task-nested subtask-add">
      <input
        className="subtask-input"
        aria-label={`New subtask of “${parent.title}”`}
        placeholder="Subtask, then Enter (Escape to close)"
        value={title}
        maxLength={200}
        autoFocus
        onChange={(e) => setTitle(e.target.value)}
        onBlur={() => {
          if (!title.trim()) onClose();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onClose();
          } else if (e.key === 'Enter' && title.trim() && !create.isPending) {
            e.preventDefault();
            create.mutate(
              { title: title.trim(), parentId: parent.id },
              { onSuccess: () => setTitle(''), onError: (err) => onError?.(errorMessage(err)) },
            );
          }
        }}
      />
    </li>
  );
}

function EmptyState({ filters, onClearFilters, onNew }: Props) {
  const online = useOnline();
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
      <button type="button" className="btn btn-primary" onClick={onNew} disabled={!online}>
        New task
      </button>
    </div>
  );
}
