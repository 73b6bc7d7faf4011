/**
 * Creating a project, or changing one: name, colour and its sections (added, renamed,
 * reordered with the arrow buttons, removed; tasks in a removed section stay in the project).
 */
import { useEffect, useState, type FormEvent } from 'react';
import { Dialog } from '@/components/dialog';
import { Field } from '@/components/field';
import { ApiError, errorMessage } from '@/lib/api-client';
import { PROJECT_COLORS, type Project, type ProjectColor } from '@/lib/types';
import { useCreateProject, useUpdateProject } from '../api';

interface Props {
  /** null = new project; undefined = closed. */
  project: Project | null | undefined;
  onClose: () => void;
  onSaved: (project: Project, message: string) => void;
}

interface SectionDraft {
  /** Absent for a section not saved yet. */
  id?: string;
  name: string;
  /** Stable key for React while ids are missing. */
  key: string;
}

let nextKey = 0;
const draftKey = () => `s${++nextKey}`;

export function ProjectDialog({ project, onClose, onSaved }: Props) {
  const open = project !== undefined;
  const [name, setName] = useState('');
  const [color, setColor] = useState<ProjectColor>('grey');
  const [archived, setArchived] = useState(false);
  const [sections, setSections] = useState<SectionDraft[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const create = useCreateProject();
  const update = useUpdateProject();
  const pending = create.isPending || update.isPending;

  useEffect(() => {
    if (!open) return;
    setName(project?.name ?? '');
    setColor(project?.color ?? 'grey');
    setArchived(project?.archived ?? false);
    setSections(project?.sections.map((s) => ({ id: s.id, name: s.name, key: s.id })) ?? []);
    setErrors({});
    setFormError(null);
  }, [open, project]);

  const move = (i: number, by: -1 | 1) =>
    setSections((list) => {
      const j = i + by;
      if (j < 0 || j >= list.length) return list;
      const next = [...list];
      [next[i], next[j]] = [next[j], next[i]];
      return next;
    });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!name.trim()) found.name = 'Give the project a name.';
    else if ([...name.trim()].length > 100) found.name = 'Keep the name under 100 characters.';
    sections.forEach((s, i) => {
      if (!s.name.trim()) found[`sections[${i}].name`] = 'Name the section, or remove it.';
    });
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length) return;
    const body = { name: name.trim(), color, sections: sections.map((s) => ({ id: s.id, name: s.name.trim() })) };
    try {
      const saved = project
        ? await update.mutateAsync({ id: project.id, patch: { ...body, name: project.isInbox ? undefined : body.name, archived: project.isInbox ? undefined : archived } })
        : await create.mutateAsync(body);
      onSaved(saved, project ? 'Project saved.' : `Project “${saved.name}” added.`);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) {
        setErrors(err.fields);
        setFormError('Please correct the highlighted fields.');
      } else if (!(err instanceof ApiError && err.isUnauthenticated)) {
        setFormError(errorMessage(err));
      }
    }
  };

  return (
    <Dialog open={open} title={project ? `Edit ${project.name}` : 'New project'} onClose={onClose}>
      <form className="editor" onSubmit={submit} noValidate>
        {!project?.isInbox && (
          <Field label="Name" error={errors.name}>
            {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} autoFocus maxLength={100} />}
          </Field>
        )}
        <fieldset className="colors">
          <legend>Colour</legend>
          {PROJECT_COLORS.map((c) => (
            <label key={c} className={`color-choice color-${c}`}>
              <input type="radio" name="project-color" value={c} checked={color === c} onChange={() => setColor(c)} />
              <span className="sr-only">{c}</span>
            </label>
          ))}
        </fieldset>
        <fieldset className="sections-editor">
          <legend>Sections</legend>
          {sections.length === 0 && <p className="muted">No sections: tasks sit in one list.</p>}
          <ol>
            {sections.map((s, i) => (
              <li key={s.key}>
                <Field label={`Section ${i + 1}`} error={errors[`sections[${i}].name`]} className="field-inline">
                  {(p) => (
                    <input
                      {...p}
                      value={s.name}
                      maxLength={100}
                      onChange={(e) => setSections((list) => list.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))}
                    />
                  )}
                </Field>
                <button type="button" className="icon-btn" onClick={() => move(i, -1)} disabled={i === 0} aria-label={`Move section ${i + 1} up`}>
                  ↑
                </button>
                <button type="button" className="icon-btn" onClick={() => move(i, 1)} disabled={i === sections.length - 1} aria-label={`Move section ${i + 1} down`}>
                  ↓
                </button>
                <button type="button" className="icon-btn" onClick={() => setSections((list) => list.filter((_, j) => j !== i))} aria-label={`Remove section ${i + 1}`}>
                  ✕
                </button>
              </li>
            ))}
          </ol>
          <button type="button" className="btn btn-ghost" onClick={() => setSections((list) => [...list, { name: '', key: draftKey() }])} disabled={sections.length >= 50}>
            Add section
          </button>
        </fieldset>
        {project && !project.isInbox && (
          <label className="check">
            <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> Archived (hidden from the project list)
          </label>
        )}
        {formError && (
          <p className="form-error" role="alert">
            {formError}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={pending}>
            {pending ? 'Saving…' : project ? 'Save project' : 'Add project'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
