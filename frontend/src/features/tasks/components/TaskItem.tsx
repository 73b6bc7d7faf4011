import { useOnline } from '@/lib/online';
import { memo, type DragEvent, type KeyboardEvent, type ReactNode } from 'react';
import { dueState, formatDue } from '@/lib/dates';
import type { Task } from '@/lib/types';
import { describeEstimate, formatEstimate } from '../estimate';
import { describeRecurrence } from '../recurrence';

interface Props {
  task: Task;
  now: Date;
  timeZone: string;
  onToggle: (task: Task) => void;
  onEdit: (task: Task) => void;
  onDelete: (task: Task) => void;
  onTag: (tag: string) => void;
  /** Makes the task draggable (the Upcoming view moves tasks between days, a project reorders them). */
  onDragStart?: (e: DragEvent<HTMLLIElement>) => void;
  /** Makes the task a drop target (a project: a task dropped on it goes after it). */
  onDragOver?: (e: DragEvent<HTMLLIElement>) => void;
  onDragLeave?: (e: DragEvent<HTMLLIElement>) => void;
  onDrop?: (e: DragEvent<HTMLLIElement>) => void;
  /** Something is being dragged over it. */
  dropping?: boolean;
  /** Keys pressed anywhere in the row (a project moves tasks with Alt+arrows). */
  onKeyDown?: (e: KeyboardEvent<HTMLLIElement>) => void;
  /** A subtask shown under its parent (indented). */
  nested?: boolean;
  /** The parent's title, for a subtask shown apart from its parent. */
  parentTitle?: string;
  /** Set for a parent whose subtasks are shown under it: whether they are. */
  expanded?: boolean;
  onToggleExpanded?: (task: Task) => void;
  /** Offers "Add subtask" (not on subtasks: they cannot have their own). */
  onAddSubtask?: (task: Task) => void;
  /** Controls of the view showing the task, beside its own. */
  actions?: ReactNode;
}

const DUE_LABEL: Record<string, string> = { overdue: 'Overdue', soon: 'Due soon' };

export const TaskItem = memo(function TaskItem(p: Props) {
  const { task, now, timeZone, onToggle, onEdit, onDelete, onTag, onDragStart, actions } = p;
  const state = dueState(task.dueAt, task.completed, now);
  const checkboxId = `done-${task.id}`;
  // Offline the list is read-only: nothing here may start a change that cannot reach the server.
  const readOnly = !useOnline();
  return (
    <li
      className={`task task-${state}${task.completed ? ' task-completed' : ''}${p.nested ? ' task-nested' : ''}${p.dropping ? ' task-drop' : ''}`}
      data-task-id={task.id}
      draggable={onDragStart && !readOnly ? true : undefined}
      onDragStart={readOnly ? undefined : onDragStart}
      onDragOver={p.onDragOver}
      onDragLeave={p.onDragLeave}
      onDrop={p.onDrop}
      onKeyDown={p.onKeyDown}
    >
      {p.expanded !== undefined && (
        <button
          type="button"
          className="icon-btn task-expand"
          aria-expanded={p.expanded}
          aria-label={`Subtasks of “${task.title}”`}
          onClick={() => p.onToggleExpanded?.(task)}
        >
          <span aria-hidden="true">{p.expanded ? '▾' : '▸'}</span>
        </button>
      )}
      <input
        id={checkboxId}
        type="checkbox"
        className="task-check"
        checked={task.completed}
        disabled={readOnly}
        onChange={() => onToggle(task)}
        aria-label={task.completed ? `Mark “${task.title}” as not done` : `Mark “${task.title}” as done`}
      />
      <div className="task-main">
        <button type="button" className="task-title" disabled={readOnly} onClick={() => onEdit(task)} aria-label={`Edit “${task.title}”`}>
          {task.title}
        </button>
        {task.description && <p className="task-desc">{task.description}</p>}
        <div className="task-meta">
          {p.parentTitle && (
            <span className="parent-hint" title={`Subtask of “${p.parentTitle}”`}>
              <span aria-hidden="true">↳ </span>
              <span className="sr-only">Subtask of </span>
              {p.parentTitle}
            </span>
          )}
          {task.subtasks.total > 0 && (
            <span className="badge subtask-count" role="img" aria-label={`${task.subtasks.done} of ${task.subtasks.total} subtasks done`}>
              {task.subtasks.done}/{task.subtasks.total}
            </span>
          )}
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
          {task.estimateMinutes != null && (
            <span className="estimate" title="Estimated effort">
              <span aria-hidden="true">{formatEstimate(task.estimateMinutes)}</span>
              <span className="sr-only">estimated {describeEstimate(task.estimateMinutes)}</span>
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
      {p.onAddSubtask && !task.parentId && (
        <button type="button" className="icon-btn task-add-sub" disabled={readOnly} onClick={() => p.onAddSubtask?.(task)} aria-label={`Add subtask to “${task.title}”`} title="Add subtask">
          <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
            <path d="M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z" fill="currentColor" />
          </svg>
        </button>
      )}
      <button type="button" className="icon-btn task-delete" disabled={readOnly} onClick={() => onDelete(task)} aria-label={`Delete “${task.title}”`}>
        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
          <path d="M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9z" fill="currentColor" />
        </svg>
      </button>
    </li>
  );
});
