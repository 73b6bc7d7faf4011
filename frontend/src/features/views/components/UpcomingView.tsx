/**
 * The next 14 days, one group per day in the user's zone, empty days included. A task moves to
 * another day by dragging it there, or with its "Move to" menu from the keyboard; either way
 * it keeps its time of day.
 */
import { useEffect, useState, type DragEvent } from 'react';
import { TaskItem } from '@/features/tasks/components/TaskItem';
import type { TaskViewProps } from '@/features/tasks/components/TaskList';
import { allTasks } from '@/features/tasks/cache';
import { nestSubtasks } from '@/features/tasks/order';
import { defaultFilters, useTaskList, useUpdateTask } from '@/features/tasks/api';
import { errorMessage } from '@/lib/api-client';
import type { Task } from '@/lib/types';
import { dayHeading, daysFrom, groupByDay, localDate, movedDue } from '../days';

export const UPCOMING_DAYS = 14;

interface Props extends TaskViewProps {
  onError: (message: string) => void;
}

export function UpcomingView(p: Props) {
  const today = localDate(p.now, p.timeZone);
  const days = daysFrom(today, UPCOMING_DAYS);
  const q = useTaskList({ ...defaultFilters, status: 'open', sort: 'dueAt', order: 'asc', dueAfter: today, dueBefore: days[days.length - 1] });
  const update = useUpdateTask();
  const [over, setOver] = useState<string | null>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = q;

  // Fourteen days are one view: every page of them is loaded.
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  if (q.isPending) return <p className="muted" aria-busy="true">Loading the next days…</p>;
  if (q.isError) return <p className="form-error" role="alert">{errorMessage(q.error)}</p>;

  const tasks = allTasks(q.data).filter((t) => !p.hidden.has(t.id));
  const titles = new Map(tasks.map((t) => [t.id, t.title]));
  const move = (task: Task, day: string) => {
    if (task.dueAt && localDate(new Date(task.dueAt), p.timeZone) === day) return;
    update.mutate({ id: task.id, patch: { dueAt: movedDue(task.dueAt, day, p.timeZone) } }, { onError: (e) => p.onError(errorMessage(e)) });
  };
  const drop = (day: string) => (e: DragEvent) => {
    e.preventDefault();
    setOver(null);
    const task = tasks.find((t) => t.id === e.dataTransfer.getData('text/x-task-id'));
    if (task) move(task, day);
  };

  return (
    <div className="upcoming">
      {groupByDay(tasks, days, p.timeZone).map(({ day, tasks: due }) => (
        <section
          key={day}
          className={`day${over === day ? ' day-over' : ''}`}
          aria-labelledby={`day-${day}`}
          data-day={day}
          onDragOver={(e) => {
            e.preventDefault();
            setOver(day);
          }}
          onDragLeave={() => setOver((d) => (d === day ? null : d))}
          onDrop={drop(day)}
        >
          <h2 id={`day-${day}`} className="section-title">
            {dayHeading(day, today)} <span className="muted">{due.length}</span>
          </h2>
          {due.length ? (
            <ul className="task-list" aria-label={`Due ${dayHeading(day, today)}`}>
              {nestSubtasks(due, titles).map(({ task: t, nested, parentTitle }) => (
                <TaskItem
                  key={t.id}
                  task={t}
                  nested={nested}
                  parentTitle={parentTitle}
                  now={p.now}
                  timeZone={p.timeZone}
                  onToggle={p.onToggle}
                  onEdit={p.onEdit}
                  onDelete={p.onDelete}
                  onTag={p.onTag}
                  onDragStart={(e) => e.dataTransfer.setData('text/x-task-id', t.id)}
                  actions={
                    <select className="move-to" aria-label={`Move “${t.title}” to another day`} value={day} onChange={(e) => move(t, e.target.value)}>
                      {days.map((d) => (
                        <option key={d} value={d}>
                          {d === day ? 'Move to…' : dayHeading(d, today)}
                        </option>
                      ))}
                    </select>
                  }
                />
              ))}
            </ul>
          ) : (
            <p className="muted section-empty">Nothing due.</p>
          )}
        </section>
      ))}
    </div>
  );
}
