import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Dialog } from '@/components/dialog';
import { Field } from '@/components/field';
import { ApiError, errorMessage } from '@/lib/api-client';
import { formatOffset } from '@/lib/dates';
import { clearDraft, loadDraft, saveDraft } from '@/lib/drafts';
import { PRIORITIES, WEEKDAYS, type Task } from '@/lib/types';
import { splitArchived, useProjects } from '@/features/projects/api';
import { useQuery } from '@tanstack/react-query';
import { queryKeys } from '@/lib/query-keys';
import { fetchTask, useCreateTask, useUpdateTask } from '../api';
import { describeEstimate, formatEstimate, MAX_ESTIMATE_MINUTES, QUICK_ESTIMATES } from '../estimate';
import { apiFieldToForm, emptyForm, formFromTask, toCreateInput, toUpdateInput, validateTask, type FormErrors, type TaskFormValues } from '../form';

interface Props {
  /** null = new task; undefined = closed. */
  task: Task | null | undefined;
  timeZone: string;
  defaultOffset: number;
  /** Where a new task goes unless the user picks another project (the one on screen). */
  defaultProjectId?: string;
  onClose: () => void;
  onSaved: (message: string) => void;
}

export const EDITOR_DRAFT = 'task-editor';

export interface EditorDraft {
  taskId: string | null;
  task: Task | null;
  values: TaskFormValues;
}

const OFFSETS = [0, 5, 10, 15, 30, 60, 120, 1440, 2880, 10080];

export function TaskEditor({ task, timeZone, defaultOffset, defaultProjectId, onClose, onSaved }: Props) {
  const open = task !== undefined;
  const initial = useMemo(
    () => (task ? formFromTask(task, timeZone) : { ...emptyForm, projectId: defaultProjectId ?? '' }),
    [task, timeZone, defaultProjectId],
  );
  const projects = useProjects();
  const [values, setValues] = useState<TaskFormValues>(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const create = useCreateTask();
  const update = useUpdateTask();
  const pending = create.isPending || update.isPending;
  const parentId = task?.parentId ?? null;
  // A subtask names its parent; the lists may not hold it (another page, completed).
  const parent = useQuery({ queryKey: [...queryKeys.tasks, 'one', parentId], queryFn: () => fetchTask(parentId!), enabled: open && parentId !== null });

  useEffect(() => {
    if (!open) return;
    // Input kept from before a lost session comes back when the same task is edited again.
    const draft = loadDraft<EditorDraft>(EDITOR_DRAFT);
    // Spread over `initial`: a draft saved before a field existed lacks it.
    setValues(draft && draft.taskId === (task?.id ?? null) ? { ...initial, ...draft.values } : initial);
    setErrors({});
    setFormError(null);
  }, [open, task, initial]);

  useEffect(() => {
    if (open) saveDraft<EditorDraft>(EDITOR_DRAFT, { taskId: task?.id ?? null, task: task ?? null, values });
  }, [open, task, values]);

  const close = () => {
    clearDraft(EDITOR_DRAFT);
    onClose();
  };

  const detach = () => {
    if (!task) return;
    update.mutate(
      { id: task.id, patch: { parentId: null } },
      {
        onSuccess: () => {
          clearDraft(EDITOR_DRAFT);
          onSaved(`“${task.title}” is a task of its own now.`);
          onClose();
        },
        onError: (err) => setFormError(errorMessage(err)),
      },
    );
  };

  const set = <K extends keyof TaskFormValues>(k: K, v: TaskFormValues[K]) => setValues((s) => ({ ...s, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found = validateTask(values);
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length) return;
    try {
      if (task) {
        const patch = toUpdateInput(initial, values, timeZone);
        if (Object.keys(patch).length) await update.mutateAsync({ id: task.id, patch });
        onSaved('Changes saved.');
      } else {
        await create.mutateAsync(toCreateInput(values, timeZone));
        onSaved('Task added.');
      }
      clearDraft(EDITOR_DRAFT);
      onClose();
    } catch (err) {
      if (err instanceof ApiError && err.isUnauthenticated) return;
      if (err instanceof ApiError && Object.keys(err.fields).length) {
        const mapped: FormErrors = {};
        const leftovers: string[] = [];
        for (const [field, msg] of Object.entries(err.fields)) {
          const key = apiFieldToForm(field);
          if (key) mapped[key] = msg;
          else leftovers.push(msg);
        }
        setErrors(mapped);
        setFormError(leftovers.length ? leftovers.join(' ') : 'Please correct the highlighted fields.');
      } else {
        setFormError(errorMessage(err));
      }
    }
  };

  return (
    <Dialog open={open} title={task ? 'Edit task' : 'New task'} onClose={close} wide>
      <form className="editor" onSubmit={submit} noValidate>
        {parentId && (
          <div className="subtask-of">
            <p>
              Subtask of <strong>{parent.data ? `“${parent.data.title}”` : 'another task'}</strong>; it stays in that task’s project and section.
            </p>
            <button type="button" className="btn btn-ghost" onClick={detach} disabled={pending}>
              Make it a task of its own
            </button>
          </div>
        )}
        <Field label="Title" error={errors.title}>
          {(p) => <input {...p} value={values.title} onChange={(e) => set('title', e.target.value)} autoFocus maxLength={200} />}
        </Field>
        <Field label="Description" error={errors.description}>
          {(p) => <textarea {...p} rows={3} value={values.description} onChange={(e) => set('description', e.target.value)} />}
        </Field>
        <div className="row">
          <Field label="Priority" error={errors.priority}>
            {(p) => (
              <select {...p} value={values.priority} onChange={(e) => set('priority', e.target.value as TaskFormValues['priority'])}>
                {PRIORITIES.map((x) => (
                  <option key={x} value={x}>
                    {x.charAt(0).toUpperCase() + x.slice(1)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Tags" error={errors.tags} hint="Separate with commas">
            {(p) => <input {...p} value={values.tags} onChange={(e) => set('tags', e.target.value)} placeholder="work, home" />}
          </Field>
        </div>
        {projects.data && !parentId && (
          <div className="row">
            <Field label="Project" error={errors.projectId}>
              {(p) => (
                <select {...p} value={values.projectId || (projects.data.find((x) => x.isInbox)?.id ?? '')} onChange={(e) => setValues((s) => ({ ...s, projectId: e.target.value, sectionId: '' }))}>
                  {splitArchived(projects.data).active.map((x) => (
                    <option key={x.id} value={x.id}>
                      {x.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {(() => {
              const chosen = projects.data.find((x) => (values.projectId ? x.id === values.projectId : x.isInbox));
              if (!chosen?.sections.length) return null;
              return (
                <Field label="Section" error={errors.sectionId}>
                  {(p) => (
                    <select {...p} value={values.sectionId} onChange={(e) => set('sectionId', e.target.value)}>
                      <option value="">No section</option>
                      {chosen.sections.map((x) => (
                        <option key={x.id} value={x.id}>
                          {x.name}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
              );
            })()}
          </div>
        )}
        <div className="row">
          <Field label="Due date" error={errors.dueDate}>
            {(p) => <input {...p} type="date" value={values.dueDate} onChange={(e) => set('dueDate', e.target.value)} />}
          </Field>
          <Field label="Time" hint="Optional; without it, end of day">
            {(p) => <input {...p} type="time" value={values.dueTime} onChange={(e) => set('dueTime', e.target.value)} />}
          </Field>
        </div>
        {parentId ? (
          <p className="muted">Subtasks do not repeat: when a repeating task is completed, its next occurrence gets the subtasks that were open.</p>
        ) : (
        <div className="row">
          <Field label="Repeat" error={errors.repeat}>
            {(p) => (
              <select {...p} value={values.repeat} onChange={(e) => set('repeat', e.target.value as TaskFormValues['repeat'])}>
                <option value="">Does not repeat</option>
                <option value="daily">Daily</option>
                <option value="weekly">Weekly</option>
                <option value="monthly">Monthly</option>
                <option value="yearly">Yearly</option>
              </select>
            )}
          </Field>
          {values.repeat && (
            <Field label="Every" error={errors.interval}>
              {(p) => (
                <input {...p} type="number" min={1} max={999} inputMode="numeric" value={values.interval} onChange={(e) => set('interval', e.target.value)} />
              )}
            </Field>
          )}
        </div>
        )}
        {values.repeat === 'weekly' && !parentId && (
          <fieldset className="weekdays">
            <legend>On these days (optional)</legend>
            {WEEKDAYS.map((d) => (
              <label key={d} className="chip-check">
                <input
                  type="checkbox"
                  checked={values.weekdays.includes(d)}
                  onChange={(e) =>
                    set('weekdays', e.target.checked ? WEEKDAYS.filter((x) => x === d || values.weekdays.includes(x)) : values.weekdays.filter((x) => x !== d))
                  }
                />
                {d.charAt(0).toUpperCase() + d.slice(1)}
              </label>
            ))}
          </fieldset>
        )}
        <Field label="Reminder" error={errors.reminder}>
          {(p) => (
            <select {...p} value={values.reminder} onChange={(e) => set('reminder', e.target.value)}>
              {!task && <option value="">Default ({formatOffset(defaultOffset).toLowerCase()})</option>}
              <option value="none">No reminder</option>
              {OFFSETS.map((m) => (
                <option key={m} value={String(m)}>
                  {formatOffset(m)}
                </option>
              ))}
              {values.reminder && values.reminder !== 'none' && !OFFSETS.includes(Number(values.reminder)) && (
                <option value={values.reminder}>{formatOffset(Number(values.reminder))}</option>
              )}
            </select>
          )}
        </Field>
        <Field label="Estimate" error={errors.estimate} hint="Minutes of work; leave empty for none. The daily plan fits estimated tasks into your day.">
          {(p) => (
            <input
              {...p}
              type="number"
              min={1}
              max={MAX_ESTIMATE_MINUTES}
              step={1}
              inputMode="numeric"
              placeholder="None"
              value={values.estimate}
              onChange={(e) => set('estimate', e.target.value)}
            />
          )}
        </Field>
        <div className="estimate-choices" role="group" aria-label="Quick estimates">
          {QUICK_ESTIMATES.map((m) => (
            <button
              key={m}
              type="button"
              className="chip-check"
              aria-pressed={values.estimate.trim() !== '' && Number(values.estimate) === m}
              aria-label={describeEstimate(m)}
              onClick={() => set('estimate', String(m))}
            >
              {formatEstimate(m)}
            </button>
          ))}
          {values.estimate !== '' && (
            <button type="button" className="link-btn" onClick={() => set('estimate', '')}>
              No estimate
            </button>
          )}
        </div>
        {formError && (
          <p className="form-error" role="alert">
            {formError}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={pending}>
            {pending ? 'Saving…' : task ? 'Save changes' : 'Add task'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
