/**
 * The task editor's form: its values, the checks made before sending (the same limits the
 * API enforces, so most mistakes are caught without a round trip), and the request bodies.
 */
import { fromApiDue, toApiDue } from '@/lib/dates';
import { MAX_ESTIMATE_MINUTES } from './estimate';
import type { CreateTaskInput, Frequency, Priority, Recurrence, Task, UpdateTaskInput, Weekday } from '@/lib/types';

export interface TaskFormValues {
  title: string;
  description: string;
  priority: Priority;
  tags: string;
  dueDate: string;
  dueTime: string;
  repeat: '' | Frequency;
  interval: string;
  weekdays: Weekday[];
  /** '' = the user's default offset, 'none' = no reminder, else minutes. */
  reminder: string;
  /** '' = the Inbox (the server's default for a new task). */
  projectId: string;
  /** '' = no section. */
  sectionId: string;
  /** Minutes as typed; '' = no estimate. */
  estimate: string;
}

export const emptyForm: TaskFormValues = {
  title: '',
  description: '',
  priority: 'medium',
  tags: '',
  dueDate: '',
  dueTime: '',
  repeat: '',
  interval: '1',
  weekdays: [],
  reminder: '',
  projectId: '',
  sectionId: '',
  estimate: '',
};

export function formFromTask(task: Task, timeZone: string): TaskFormValues {
  const { date, time } = fromApiDue(task.dueAt, timeZone);
  const offset = task.reminders.find((r): r is { offsetMinutes: number } => 'offsetMinutes' in r);
  return {
    title: task.title,
    description: task.description ?? '',
    priority: task.priority,
    tags: task.tags.join(', '),
    dueDate: date,
    dueTime: time === '23:59' ? '' : time,
    repeat: task.recurrence?.frequency ?? '',
    interval: String(task.recurrence?.interval ?? 1),
    weekdays: task.recurrence?.weekdays ?? [],
    reminder: task.reminders.length === 0 ? 'none' : offset ? String(offset.offsetMinutes) : '',
    projectId: task.projectId,
    sectionId: task.sectionId ?? '',
    estimate: task.estimateMinutes == null ? '' : String(task.estimateMinutes),
  };
}

export function parseTags(raw: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of raw.split(',')) {
    const tag = part.trim().replace(/^#/, '');
    if (tag && !seen.has(tag.toLowerCase())) {
      seen.add(tag.toLowerCase());
      out.push(tag);
    }
  }
  return out;
}

export type FormErrors = Partial<Record<keyof TaskFormValues, string>>;

export function validateTask(v: TaskFormValues): FormErrors {
  const e: FormErrors = {};
  const title = v.title.trim();
  if (!title) e.title = 'Give the task a title.';
  else if ([...title].length > 200) e.title = 'Keep the title under 200 characters.';
  else if (/[\n\r]/.test(v.title)) e.title = 'The title must be one line.';
  if ([...v.description].length > 5000) e.description = 'Keep the description under 5000 characters.';
  const tags = parseTags(v.tags);
  if (tags.length > 20) e.tags = 'Use at most 20 tags.';
  else if (tags.some((t) => [...t].length > 50)) e.tags = 'Each tag must be at most 50 characters.';
  if (v.dueTime && !v.dueDate) e.dueDate = 'Pick a date for this time.';
  if (v.repeat) {
    if (!v.dueDate) e.repeat = 'A repeating task needs a due date.';
    const n = Number(v.interval);
    if (!Number.isInteger(n) || n < 1 || n > 999) e.interval = 'Repeat every 1 to 999.';
  }
  if (v.reminder && v.reminder !== 'none' && !v.dueDate) e.reminder = 'A reminder needs a due date.';
  const estimate = estimateOf(v);
  if (estimate !== null && (!Number.isInteger(estimate) || estimate < 1 || estimate > MAX_ESTIMATE_MINUTES)) {
    e.estimate = `Estimate 1 to ${MAX_ESTIMATE_MINUTES} minutes (24 hours), or leave it empty.`;
  }
  return e;
}

function estimateOf(v: TaskFormValues): number | null {
  return v.estimate.trim() === '' ? null : Number(v.estimate);
}

function recurrenceOf(v: TaskFormValues): Recurrence | undefined {
  if (!v.repeat) return undefined;
  const r: Recurrence = { frequency: v.repeat, interval: Number(v.interval) || 1 };
  if (v.repeat === 'weekly' && v.weekdays.length) r.weekdays = v.weekdays;
  return r;
}

function remindersOf(v: TaskFormValues): CreateTaskInput['reminders'] {
  if (v.reminder === 'none') return [];
  if (v.reminder === '') return undefined;
  return [{ offsetMinutes: Number(v.reminder) }];
}

export function toCreateInput(v: TaskFormValues, timeZone: string): CreateTaskInput {
  const input: CreateTaskInput = { title: v.title.trim(), priority: v.priority };
  if (v.description.trim()) input.description = v.description.trim();
  const tags = parseTags(v.tags);
  if (tags.length) input.tags = tags;
  const due = toApiDue(v.dueDate, v.dueTime, timeZone);
  if (due) input.dueAt = due;
  const rec = recurrenceOf(v);
  if (rec) input.recurrence = rec;
  const rem = remindersOf(v);
  if (rem && due) input.reminders = rem;
  if (v.projectId) input.projectId = v.projectId;
  if (v.sectionId) input.sectionId = v.sectionId;
  const estimate = estimateOf(v);
  if (estimate !== null) input.estimateMinutes = estimate;
  return input;
}

/** Only what changed, so an edit never overwrites a field changed elsewhere meanwhile. */
export function toUpdateInput(before: TaskFormValues, v: TaskFormValues, timeZone: string): UpdateTaskInput {
  const out: UpdateTaskInput = {};
  if (v.title.trim() !== before.title.trim()) out.title = v.title.trim();
  if (v.description.trim() !== before.description.trim()) out.description = v.description.trim() || null;
  if (v.priority !== before.priority) out.priority = v.priority;
  const tags = parseTags(v.tags);
  if (tags.join('\u0000') !== parseTags(before.tags).join('\u0000')) out.tags = tags.length ? tags : null;
  if (v.dueDate !== before.dueDate || v.dueTime !== before.dueTime) out.dueAt = toApiDue(v.dueDate, v.dueTime, timeZone) ?? null;
  const recBefore = JSON.stringify(recurrenceOf(before) ?? null);
  const recNow = recurrenceOf(v);
  if (JSON.stringify(recNow ?? null) !== recBefore) out.recurrence = recNow ?? null;
  if (v.reminder !== before.reminder) {
    const rem = remindersOf(v);
    // "Default" only applies when a task is created; on an edit it leaves reminders alone.
    if (rem !== undefined) out.reminders = rem;
  }
  if (v.projectId && v.projectId !== before.projectId) out.projectId = v.projectId;
  if (v.sectionId !== before.sectionId || out.projectId) out.sectionId = v.sectionId || null;
  const estimate = estimateOf(v);
  if (estimate !== estimateOf(before)) out.estimateMinutes = estimate;
  return out;
}

/** Maps API field names onto the form's fields, so server-side errors show beside the input. */
export function apiFieldToForm(field: string): keyof TaskFormValues | null {
  const root = field.split(/[.[]/)[0];
  switch (root) {
    case 'title':
    case 'description':
    case 'priority':
    case 'tags':
      return root;
    case 'dueAt':
      return 'dueDate';
    case 'recurrence':
      return field.includes('interval') ? 'interval' : 'repeat';
    case 'reminders':
      return 'reminder';
    case 'projectId':
    case 'sectionId':
      return root;
    case 'estimateMinutes':
      return 'estimate';
    default:
      return null;
  }
}
