import { memo, type DragEvent, type ReactNode } from 'react';
import { dueState, formatDue } from '@/lib/dates';
import type { Task } from '@/lib/types';
import { describeRecurrence } from '../recurrence';

interface Props {
  task: Task;
  now: Date;
  timeZone: string;
  onToggle: (task: Task) => void;
  onEdit: (task: Task) => void;
  onDelete: (task: Task) => void;
  onTag: (tag: string) => void;
  /** Makes the task draggable (the Upcoming view moves tasks between days). */
  onDragStart?: (e: DragEvent<HTMLLIElement>) => void;
  /** Controls of the view showing the task, beside its own. */
  actions?: ReactNode;
}

const DUE_LABEL: Record<string, string> = { overdue: 'Overdue', soon: 'Due soon' };

export const TaskItem = memo(function TaskItem({ task, now, timeZone, onToggle, onEdit, onDelete, onTag, onDragStart, actions }: Props) {
  const state = dueState(task.dueAt, task.completed, now);
  const checkboxId = `done-${task.id}`;
  return (
    <li
      className={`task task-${state}${task.completed ? ' task-completed' : ''}`}
      data-task-id={task.id}
      draggable={onDragStart ? true : undefined}
      onDragStart={onDragStart}
    >
      <input
        id={checkboxId}
        type="checkbox"
        className="task-check"
        checked={task.completed}
        onChange={() => onToggle(task)}
        aria-label={task.completed ? `Mark “${task.title}” as not done` : `Mark “${task.title}” as done`}
      />
      <div className="task-main">
        <button type="button" className="task-title" onClick={() => onEdit(task)} aria-label={`Edit “${task.title}”`}>
          {task.title}
        </button>
        {task.description && <p className="task-desc">{task.description}</p>}
        <div className="task-meta">
          <span className={`badge prio prio-${task.priority}`}>{task.priority}</span>
          {task.completed && task.completedAt && (
            <span className="done-at">
              Done <time dateTime={task.completedAt}>{formatDue(task.completedAt, now, timeZone)}</time>
            </span>
          )}
          {task.dueAt && (
            <span className={`due due-${state}`}>
              {DUE_LABEL[state] && <strong>{DUE_LABEL[state]} · </strong>}
              <time dateTime={task.dueAt}>{formatDue(task.dueAt, now, timeZone)}</time>
            </span>
          )}
          {task.recurrence && (
            <span className="recur" title={describeRecurrence(task.recurrence)}>
              <span aria-hidden="true">↻ </span>
              {describeRecurrence(task.recurrence)}
              {task.occurrenceNumber > 1 && ` · #${task.occurrenceNumber}`}
            </span>
          )}
          {task.tags.map((tag) => (
            <button key={tag} type="button" className="tag" onClick={() => onTag(tag)} aria-label={`Show tasks tagged ${tag}`}>
              #{tag}
            </button>
          ))}
        </div>
      </div>
      {actions}
      <button type="button" className="icon-btn task-delete" onClick={() => onDelete(task)} aria-label={`Delete “${task.title}”`}>
        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
          <path d="M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9z" fill="currentColor" />
        </svg>
      </button>
    </li>
  );
});
