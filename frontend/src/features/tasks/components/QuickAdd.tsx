/**
 * One-line task entry. As the user types, the server's parser marks what it recognised
 * (date, time, priority, tags, repetition, `#Project`, `/Section`) in place; Enter creates the
 * task from those fields. Without a parser on the server, Enter creates a task titled with the
 * text.
 */
import { useOnline } from '@/lib/online';
import { forwardRef, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { errorMessage } from '@/lib/api-client';
import { formatDue, toApiDue } from '@/lib/dates';
import { clearDraft, loadDraft, saveDraft } from '@/lib/drafts';
import type { CreateTaskInput, QuickAddResult, Recurrence } from '@/lib/types';
import { parseQuickAdd, useCreateTask } from '../api';
import { placeLabel, segments } from '../highlight';
import { describeRecurrence } from '../recurrence';

const PARSE_DEBOUNCE_MS = 150;
export const QUICK_ADD_DRAFT = 'quick-add';

interface Props {
  timeZone: string;
  /** The project new tasks go to (the one on screen); the Inbox when absent. */
  projectId?: string;
  onCreated: (title: string) => void;
  onError: (message: string) => void;
}

export const QuickAdd = forwardRef<HTMLInputElement, Props>(function QuickAdd({ timeZone, projectId, onCreated, onError }, ref) {
  const [text, setText] = useState(() => loadDraft<string>(QUICK_ADD_DRAFT) ?? '');
  const [parsed, setParsed] = useState<{ text: string; result: QuickAddResult } | null>(null);
  const [parserMissing, setParserMissing] = useState(false);
  const mirror = useRef<HTMLDivElement>(null);
  const create = useCreateTask();
  const online = useOnline();

  useEffect(() => {
    if (text) saveDraft(QUICK_ADD_DRAFT, text);
    else clearDraft(QUICK_ADD_DRAFT);
    if (parserMissing || !text.trim()) {
      setParsed(null);
      return;
    }
    const ctrl = new AbortController();
    const id = setTimeout(() => {
      parseQuickAdd(text, { projectId, signal: ctrl.signal })
        .then((result) => {
          if (result === null) setParserMissing(true);
          else setParsed({ text, result });
        })
        .catch(() => {
          // A failed parse only loses the highlighting; Enter still works.
        });
    }, PARSE_DEBOUNCE_MS);
    return () => {
      clearTimeout(id);
      ctrl.abort();
    };
  }, [text, parserMissing, projectId]);

  const submit = async () => {
    const raw = text.trim();
    if (!raw || create.isPending) return;
    let input: CreateTaskInput = { title: raw };
    if (!parserMissing) {
      try {
        const result = parsed?.text === text ? parsed.result : await parseQuickAdd(text, { projectId });
        if (result === null) setParserMissing(true);
        // Nothing left once the recognised parts are taken out ("tomorrow 5pm"): the whole
        // line is the title.
        else input = toCreate({ ...result.task, title: result.task.title?.trim() || raw });
      } catch {
        // Creating the plain task beats refusing the user's input.
      }
    }
    // A `#Project` (or a `/Section`) in the line wins over the project on screen.
    if (projectId && !input.projectId) input = { ...input, projectId };
    try {
      await create.mutateAsync(input);
      setText('');
      setParsed(null);
      onCreated(input.title);
    } catch (e) {
      onError(errorMessage(e));
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      void submit();
    } else if (e.key === 'Escape') {
      (e.target as HTMLInputElement).blur();
    }
  };

  const current = parsed?.text === text ? parsed.result : null;
  const segs = current ? segments(text, current.spans) : [{ text, kind: null }];
  const chips = current ? describeParsed(current, timeZone) : [];

  return (
    <div className="quick-add">
      <label htmlFor="quick-add" className="sr-only">
        Quick add a task
      </label>
      <div className="quick-add-box">
        <div className="quick-add-field">
        <div className="quick-add-mirror" aria-hidden="true" ref={mirror}>
          {segs.map((s, i) =>
            s.kind ? (
              <mark key={i} className={`hl hl-${s.kind}`}>
                {s.text}
              </mark>
            ) : (
              <span key={i}>{s.text}</span>
            ),
          )}
        </div>
        <input
          ref={ref}
          id="quick-add"
          className="quick-add-input"
          value={text}
          autoComplete="off"
          spellCheck={false}
          placeholder={parserMissing ? 'Add a task and press Enter' : 'Add a task: “Submit report fri 5pm !high #Work /Doing @focus every week”'}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          onScroll={(e) => {
            if (mirror.current) mirror.current.scrollLeft = e.currentTarget.scrollLeft;
          }}
          aria-describedby="quick-add-parsed"
          disabled={create.isPending || !online}
        />
        </div>
        <button type="button" className="btn btn-primary" onClick={() => void submit()} disabled={!text.trim() || create.isPending || !online}>
          Add
        </button>
      </div>
      <p id="quick-add-parsed" className="quick-add-chips" aria-live="polite">
        {chips.map((c) => (
          <span key={c.label} className={`chip chip-${c.kind}`}>
            {c.label}
          </span>
        ))}
      </p>
    </div>
  );
});

/** The API refuses unknown fields on create, so only the fields it knows are passed on. */
function toCreate(parsed: QuickAddResult['task']): CreateTaskInput {
  const input: CreateTaskInput = { title: parsed.title!.trim() };
  if (parsed.priority) input.priority = parsed.priority;
  if (parsed.tags?.length) input.tags = parsed.tags;
  if (parsed.dueAt) input.dueAt = parsed.dueAt;
  if (parsed.recurrence) input.recurrence = parsed.recurrence;
  if (parsed.projectId) input.projectId = parsed.projectId;
  if (parsed.sectionId) input.sectionId = parsed.sectionId;
  return input;
}

function describeParsed(r: QuickAddResult, timeZone: string): { kind: string; label: string }[] {
  const out: { kind: string; label: string }[] = [];
  const t = r.task;
  if (t.dueAt) {
    // A date alone means the end of that day in the user's zone, as the API reads it.
    const iso = /^\d{4}-\d{2}-\d{2}$/.test(t.dueAt) ? (toApiDue(t.dueAt, '23:59', timeZone) ?? t.dueAt) : t.dueAt;
    const d = new Date(iso);
    out.push({ kind: 'date', label: `Due ${Number.isNaN(d.getTime()) ? t.dueAt : formatDue(d.toISOString(), new Date(), timeZone)}` });
  }
  if (t.priority) out.push({ kind: 'priority', label: `Priority ${t.priority}` });
  for (const tag of t.tags ?? []) out.push({ kind: 'tag', label: `#${tag}` });
  if (t.recurrence) out.push({ kind: 'recurrence', label: describeRecurrence(t.recurrence as Recurrence) });
  for (const span of r.spans) {
    const place = placeLabel(span);
    if (place) out.push(place);
  }
  return out;
}
