import { forwardRef } from 'react';
import { PRIORITIES } from '@/lib/types';
import type { SortField, TaskFilters as Filters } from '../api';

interface Props {
  value: Filters;
  search: string;
  onSearch: (s: string) => void;
  onChange: (f: Filters) => void;
  /** The list is in its manual order (a project's): no sort to choose. */
  manualOrder?: boolean;
}

const SORTS: { value: SortField; label: string }[] = [
  { value: 'createdAt', label: 'Newest' },
  { value: 'dueAt', label: 'Due date' },
  { value: 'priority', label: 'Priority' },
  { value: 'title', label: 'Title' },
  { value: 'updatedAt', label: 'Updated' },
];

/** The natural direction of each sort, so picking one needs no second choice. */
const NATURAL_ORDER: Record<SortField, 'asc' | 'desc'> = {
  createdAt: 'desc',
  updatedAt: 'desc',
  dueAt: 'asc',
  priority: 'desc',
  title: 'asc',
  position: 'asc',
};

export const TaskFilters = forwardRef<HTMLInputElement, Props>(function TaskFilters({ value, search, onSearch, onChange, manualOrder }, ref) {
  const set = <K extends keyof Filters>(k: K, v: Filters[K]) => onChange({ ...value, [k]: v });
  return (
    <div className="filters" role="search">
      <div className="field field-inline search">
        <label htmlFor="search" className="sr-only">
          Search tasks
        </label>
        <input ref={ref} id="search" type="search" placeholder="Search tasks  ( / )" value={search} onChange={(e) => onSearch(e.target.value)} />
      </div>
      <div className="field field-inline">
        <label htmlFor="f-status">Show</label>
        <select id="f-status" value={value.status} onChange={(e) => set('status', e.target.value as Filters['status'])}>
          <option value="open">Open</option>
          <option value="completed">Completed</option>
          <option value="all">All</option>
        </select>
      </div>
      <div className="field field-inline">
        <label htmlFor="f-priority">Priority</label>
        <select id="f-priority" value={value.priority} onChange={(e) => set('priority', e.target.value as Filters['priority'])}>
          <option value="">Any</option>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p.charAt(0).toUpperCase() + p.slice(1)}
            </option>
          ))}
        </select>
      </div>
      <div className="field field-inline">
        <label htmlFor="f-tag">Tag</label>
        <input id="f-tag" className="tag-input" value={value.tag} placeholder="any" onChange={(e) => set('tag', e.target.value)} />
      </div>
      <label className="check-inline">
        <input type="checkbox" checked={value.overdue} onChange={(e) => set('overdue', e.target.checked)} /> Overdue only
      </label>
      {manualOrder ? (
        <p className="muted manual-order-hint">In your order: drag tasks, or press Alt+↑ / Alt+↓ on one.</p>
      ) : (
      <div className="field field-inline">
        <label htmlFor="f-sort">Sort</label>
        <select
          id="f-sort"
          value={value.sort}
          onChange={(e) => {
            const sort = e.target.value as SortField;
            onChange({ ...value, sort, order: NATURAL_ORDER[sort] });
          }}
        >
          {SORTS.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="icon-btn"
          onClick={() => set('order', value.order === 'asc' ? 'desc' : 'asc')}
          aria-label={value.order === 'asc' ? 'Ascending order; switch to descending' : 'Descending order; switch to ascending'}
          title={value.order === 'asc' ? 'Ascending' : 'Descending'}
        >
          {value.order === 'asc' ? '↑' : '↓'}
        </button>
      </div>
      )}
    </div>
  );
});

export function isFiltered(f: Filters): boolean {
  return f.priority !== '' || f.tag.trim() !== '' || f.overdue || f.search.trim() !== '' || f.status !== 'open';
}
