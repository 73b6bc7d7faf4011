/**
 * "Import from Todoist" in Settings: pick an exported CSV file and where its tasks go, preview
 * what would be created and what would be skipped (a dry run), then import and show the report.
 */
import { useState, type ChangeEvent, type FormEvent } from 'react';
import { Field } from '@/components/field';
import { splitArchived, useProjects } from '@/features/projects/api';
import { ApiError, errorMessage } from '@/lib/api-client';
import { formatDue } from '@/lib/dates';
import type { ImportReport } from '@/lib/types';
import { MAX_CSV_BYTES, projectNameFromFile, useTodoistImport } from '../api';

interface Props {
  /** The user's zone, for showing due dates. */
  timeZone: string;
  onSaved: (message: string) => void;
}

type Target = 'new' | 'existing';

/** The file's text. FileReader rather than `Blob.text()`, which older browsers lack. */
function readText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === 'string' ? reader.result : '');
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'));
    reader.readAsText(file);
  });
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

function Report({ report, timeZone }: { report: ImportReport; timeZone: string }) {
  const now = new Date();
  const { tasks, sections, skipped, notes, project } = report;
  const where = project.created ? `new project “${project.name}”` : `“${project.name}”`;
  return (
    <div aria-label={report.dryRun ? 'Preview' : 'Import report'} role="region">
      <p>
        <strong>
          {report.dryRun ? 'Would import' : 'Imported'} {plural(tasks.length, 'task')} into {where}
        </strong>
        {sections.length > 0 && <>, with {plural(sections.length, 'new section')} ({sections.join(', ')})</>}.{' '}
        {skipped.length > 0 && <span>{plural(skipped.length, 'row')} skipped.</span>}
      </p>
      {tasks.length > 0 && (
        <table className="import-table">
          <caption className="muted">Tasks</caption>
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Title</th>
              <th scope="col">Section</th>
              <th scope="col">Priority</th>
              <th scope="col">Due</th>
              <th scope="col">Tags</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((t) => (
              <tr key={t.row}>
                <td>{t.row}</td>
                <td>{t.title}</td>
                <td>{t.sectionName ?? ''}</td>
                <td>{t.priority}</td>
                <td>
                  {t.dueAt ? formatDue(t.dueAt, now, timeZone) : ''}
                  {t.recurrence ? ' ↻' : ''}
                </td>
                <td>{t.tags.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {skipped.length > 0 && (
        <>
          <h3>Skipped</h3>
          <ul aria-label="Skipped rows">
            {skipped.map((s) => (
              <li key={`${s.row}-${s.reason}`}>
                Row {s.row}: {s.reason}
              </li>
            ))}
          </ul>
        </>
      )}
      {notes.length > 0 && (
        <>
          <h3>Imported with changes</h3>
          <ul aria-label="Notes">
            {notes.map((n) => (
              <li key={`${n.row}-${n.message}`}>
                Row {n.row}: {n.message}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

export function ImportSection({ timeZone, onSaved }: Props) {
  const projects = useProjects();
  const run = useTodoistImport();
  const [csv, setCsv] = useState<string | null>(null);
  const [fileName, setFileName] = useState('');
  const [target, setTarget] = useState<Target>('new');
  const [name, setName] = useState('');
  const [projectId, setProjectId] = useState('');
  const [report, setReport] = useState<ImportReport | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const active = splitArchived(projects.data ?? []).active;
  const chosenId = projectId || active[0]?.id || '';

  /** Any change of input makes the preview stale: the import must follow a preview of the same. */
  const changed = () => {
    setReport(null);
    setErrors({});
  };

  const pick = async (e: ChangeEvent<HTMLInputElement>) => {
    changed();
    const file = e.target.files?.[0];
    if (!file) return;
    if (file.size > MAX_CSV_BYTES) {
      setCsv(null);
      setErrors({ csv: 'The file is larger than 1 MiB.' });
      return;
    }
    try {
      setCsv(await readText(file));
      setFileName(file.name);
      setName(projectNameFromFile(file.name));
    } catch (err) {
      setCsv(null);
      setErrors({ csv: errorMessage(err) });
    }
  };

  const send = (dryRun: boolean) => {
    if (csv === null) {
      setErrors({ csv: 'Choose a CSV file exported from Todoist.' });
      return;
    }
    if (target === 'existing' && !chosenId) {
      setErrors({ project: 'Choose a project.' });
      return;
    }
    setErrors({});
    const project = target === 'new' ? { name: name.trim() } : { id: chosenId };
    run.mutate(
      { csv, fileName, project, dryRun },
      {
        onSuccess: (r) => {
          setReport(r);
          if (!r.dryRun) onSaved(`Imported ${plural(r.tasks.length, 'task')} into “${r.project.name}”.`);
        },
        onError: (err) => {
          const fields = err instanceof ApiError ? err.fields : {};
          setErrors(Object.keys(fields).length ? fields : { form: errorMessage(err) });
        },
      },
    );
  };

  const preview = (e: FormEvent) => {
    e.preventDefault();
    send(true);
  };

  const imported = report !== null && !report.dryRun;
  return (
    <form className="card" onSubmit={preview} noValidate>
      <h2>Import from Todoist</h2>
      <p className="muted">In Todoist, export a project as a CSV file (one file per project), then choose it here.</p>
      <Field label="Todoist CSV file" error={errors.csv} hint="At most 1 MiB and 2,000 rows.">
        {(p) => <input {...p} type="file" accept=".csv,text/csv" onChange={(e) => void pick(e)} />}
      </Field>
      <fieldset className="radio-row">
        <legend>Import into</legend>
        <label>
          <input
            type="radio"
            name="import-target"
            checked={target === 'new'}
            onChange={() => {
              changed();
              setTarget('new');
            }}
          />{' '}
          A new project
        </label>
        <label>
          <input
            type="radio"
            name="import-target"
            checked={target === 'existing'}
            onChange={() => {
              changed();
              setTarget('existing');
            }}
          />{' '}
          An existing project
        </label>
      </fieldset>
      {target === 'new' ? (
        <Field label="New project name" error={errors['project.name'] ?? errors.project}>
          {(p) => (
            <input
              {...p}
              value={name}
              maxLength={100}
              onChange={(e) => {
                changed();
                setName(e.target.value);
              }}
            />
          )}
        </Field>
      ) : (
        <Field label="Project" error={errors['project.id'] ?? errors.project}>
          {(p) => (
            <select
              {...p}
              value={chosenId}
              onChange={(e) => {
                changed();
                setProjectId(e.target.value);
              }}
            >
              {active.map((project) => (
                <option key={project.id} value={project.id}>
                  {project.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      {errors.form && (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="dialog-actions">
        <button type="submit" className="btn" disabled={run.isPending}>
          Preview
        </button>
        <button
          type="button"
          className="btn btn-primary"
          disabled={run.isPending || report === null || imported}
          onClick={() => send(false)}
        >
          {run.isPending ? 'Working…' : 'Import'}
        </button>
      </div>
      {report && <Report report={report} timeZone={timeZone} />}
    </form>
  );
}
