/** Deleting a project asks what happens to its tasks; nothing is chosen for the user. */
import { useEffect, useState } from 'react';
import { Dialog } from '@/components/dialog';
import { errorMessage } from '@/lib/api-client';
import type { Project, TasksOnDelete } from '@/lib/types';
import { useDeleteProject } from '../api';

interface Props {
  project: Project | undefined;
  onClose: () => void;
  onDeleted: (message: string) => void;
}

export function DeleteProjectDialog({ project, onClose, onDeleted }: Props) {
  const [choice, setChoice] = useState<TasksOnDelete | null>(null);
  const [error, setError] = useState<string | null>(null);
  const remove = useDeleteProject();
  useEffect(() => {
    setChoice(null);
    setError(null);
  }, [project]);
  if (!project) return null;
  const count = project.openTaskCount;
  const confirm = () => {
    if (!choice) return;
    remove.mutate(
      { id: project.id, tasks: choice },
      {
        onSuccess: (r) =>
          onDeleted(
            r.tasksMoved
              ? `Deleted “${project.name}”; ${r.tasksMoved} ${r.tasksMoved === 1 ? 'task' : 'tasks'} moved to the Inbox.`
              : `Deleted “${project.name}” and its tasks.`,
          ),
        onError: (e) => setError(errorMessage(e)),
      },
    );
  };
  return (
    <Dialog open title={`Delete ${project.name}?`} onClose={onClose}>
      <fieldset className="choice">
        <legend>
          {count === 0 ? 'It has no open tasks. Its completed tasks:' : `Its ${count} open ${count === 1 ? 'task' : 'tasks'}, and any completed ones:`}
        </legend>
        <label className="check">
          <input type="radio" name="tasks-on-delete" checked={choice === 'moveToInbox'} onChange={() => setChoice('moveToInbox')} /> Move them to the Inbox
        </label>
        <label className="check">
          <input type="radio" name="tasks-on-delete" checked={choice === 'delete'} onChange={() => setChoice('delete')} /> Delete them too
        </label>
      </fieldset>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="btn btn-danger" disabled={!choice || remove.isPending} onClick={confirm}>
          {remove.isPending ? 'Deleting…' : 'Delete project'}
        </button>
      </div>
    </Dialog>
  );
}
