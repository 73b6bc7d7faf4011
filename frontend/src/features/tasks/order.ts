/**
 * Subtasks and the manual order, as pure functions: how a list nests subtasks under their
 * parents, where a move or a drop places a task (the `afterId` the server wants), and the key
 * a moved task gets in the cache until the server's own arrives.
 */
import type { Task } from '@/lib/types';

/** The server's manual order: keys compared as plain strings (they are ASCII hex digits, so
 * JavaScript's comparison is the bytewise one), ties by id. */
export function compareManual(a: Task, b: Task): number {
  if (a.position !== b.position) return a.position < b.position ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export interface Row {
  task: Task;
  /** A subtask shown under its parent. */
  nested: boolean;
  /** Title of the parent of a subtask shown on its own (its parent is not in the list), when known. */
  parentTitle?: string;
  /** The subtasks shown under this task (for the collapse toggle). */
  children: number;
}

/**
 * The rows of a list: each task in the list's order, its subtasks that are in the list right
 * under it in manual order. A subtask whose parent is not in the list stays where the list put
 * it, with its parent's title from `titles` when known.
 */
export function nestSubtasks(tasks: Task[], titles: ReadonlyMap<string, string> = new Map(), collapsed: ReadonlySet<string> = new Set()): Row[] {
  const inList = new Set(tasks.map((t) => t.id));
  const childrenOf = new Map<string, Task[]>();
  for (const t of tasks) {
    if (t.parentId && inList.has(t.parentId)) childrenOf.set(t.parentId, [...(childrenOf.get(t.parentId) ?? []), t]);
  }
  const rows: Row[] = [];
  for (const t of tasks) {
    if (t.parentId && inList.has(t.parentId)) continue;
    const children = (childrenOf.get(t.id) ?? []).sort(compareManual);
    const parentTitle = t.parentId ? titles.get(t.parentId) : undefined;
    rows.push({ task: t, nested: false, children: children.length, ...(parentTitle ? { parentTitle } : {}) });
    if (!collapsed.has(t.id)) for (const c of children) rows.push({ task: c, nested: true, children: 0 });
  }
  return rows;
}

/** What `POST /tasks/{id}/move` takes: after which task (null = first), and the section when it changes. */
export interface Move {
  afterId: string | null;
  sectionId?: string | null;
}

/**
 * Move up or down one place among `siblings` (the task's list as displayed: same section,
 * same parent). Up goes after the task two above (or first); down goes after the next one.
 * null at either end.
 */
export function moveBy(siblings: Task[], id: string, direction: 'up' | 'down'): Move | null {
  const i = siblings.findIndex((t) => t.id === id);
  if (i < 0) return null;
  if (direction === 'up') return i === 0 ? null : { afterId: i >= 2 ? siblings[i - 2]!.id : null };
  return i === siblings.length - 1 ? null : { afterId: siblings[i + 1]!.id };
}

const sectionOf = (t: Task) => t.sectionId ?? null;

/**
 * Dropping `dragged` on `target` places it right after the target. A subtask only moves among
 * its siblings (dropped on its parent, it goes first). A task dropped on another task's
 * subtask goes after that parent; into the target's section when that differs. null when the
 * drop means nothing.
 */
export function dropOnTask(dragged: Task, target: Task, tasks: Task[]): Move | null {
  if (dragged.id === target.id) return null;
  if (dragged.parentId) {
    if (target.id === dragged.parentId) return { afterId: null };
    return target.parentId === dragged.parentId ? { afterId: target.id } : null;
  }
  const anchor = target.parentId ? tasks.find((t) => t.id === target.parentId) : target;
  if (!anchor || anchor.id === dragged.id || anchor.projectId !== dragged.projectId) return null;
  return sectionOf(anchor) === sectionOf(dragged) ? { afterId: anchor.id } : { afterId: anchor.id, sectionId: sectionOf(anchor) };
}

/** Dropping a task on a section's heading or empty area: first in that section. Subtasks stay with their parent. */
export function dropOnSection(dragged: Task, sectionId: string | null): Move | null {
  if (dragged.parentId) return null;
  return sectionOf(dragged) === sectionId ? { afterId: null } : { afterId: null, sectionId };
}

const DIGITS = '0123456789abcdef';

/** The server's key arithmetic (`backend/src/domain/position.rs`): a key strictly between `a`
 * and `b` (null: above every key), given `a < b` and neither ending in `0`. */
function midpoint(a: string, b: string | null): string {
  if (b !== null) {
    let shared = 0;
    while (shared < b.length && (a[shared] ?? '0') === b[shared]) shared++;
    if (shared > 0) return b.slice(0, shared) + midpoint(a.slice(shared), b.slice(shared));
  }
  const low = a.length ? DIGITS.indexOf(a[0]!) : 0;
  const high = b ? DIGITS.indexOf(b[0]!) : DIGITS.length;
  if (high - low > 1) return DIGITS[Math.floor((low + high) / 2)]!;
  if (b && b.length > 1) return b[0]!;
  return DIGITS[low]! + midpoint(a.slice(1), null);
}

/** A key after `before` (null: first) and before `after` (null: last); null when they are equal or reversed. */
export function keyBetween(before: string | null, after: string | null): string | null {
  const lower = before ?? '';
  if (after !== null && lower >= after) return null;
  return midpoint(lower, after);
}

/**
 * The key a task moved after `afterId` (null: first) gets among `siblings` (its new list in
 * manual order, without it); undefined when `afterId` is not among them (the server decides).
 */
export function localPosition(siblings: Task[], afterId: string | null): string | undefined {
  if (afterId === null) return keyBetween(null, siblings[0]?.position ?? null) ?? undefined;
  const i = siblings.findIndex((t) => t.id === afterId);
  if (i < 0) return undefined;
  const after = siblings[i]!;
  // Equal keys (ties broken by id) leave no room between: after all of them, as the server does.
  return keyBetween(after.position, siblings[i + 1]?.position ?? null) ?? `${after.position}8`;
}
