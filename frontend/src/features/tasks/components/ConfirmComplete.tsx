/**
 * Completing a task completes its open subtasks with it, so a parent with open subtasks asks
 * first; any other task is done at once.
 */
import { useCallback, useState, type ReactNode } from 'react';
import { Dialog } from '@/components/dialog';
import type { Task } from '@/lib/types';

export function openSubtasks(t: Task): number {
  return t.completed ? 0 : t.subtasks.total - t.subtasks.done;
}

/** Wraps `toggle`: the returned one asks before completing a parent with open subtasks. */
export function useConfirmedToggle(toggle: (t: Task) => void): { toggle: (t: Task) => void; dialog: ReactNode } {
  const [asking, setAsking] = useState<Task | null>(null);
  const guarded = useCallback((t: Task) => (openSubtasks(t) > 0 ? setAsking(t) : toggle(t)), [toggle]);
  const open = asking ? openSubtasks(asking) : 0;
  const dialog = (
    <Dialog open={asking !== null} title="Complete with subtasks?" onClose={() => setAsking(null)}>
      {asking && (
        <>
          <p>
            Complete “{asking.title}” and its {open === 1 ? 'open subtask' : `${open} open subtasks`}?
          </p>
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={() => setAsking(null)}>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-primary"
              autoFocus
              onClick={() => {
                setAsking(null);
                toggle(asking);
              }}
            >
              Complete
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
  return { toggle: guarded, dialog };
}
