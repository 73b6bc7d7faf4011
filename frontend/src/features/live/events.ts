/**
 * What each server-sent event means for the screen. Kept pure so the rules (what to refetch,
 * when to notify) are tested without a browser or a server.
 */

export interface TaskEventData {
  eventType: string;
  taskId: string;
}

export interface SuggestionEventData {
  suggestionId: string;
  kind: string;
  status: string;
  taskId: string | null;
  title: string;
}

export interface ReminderEventData {
  taskId: string;
  title: string;
  dueAt: string | null;
}

export type LiveEvent =
  | { type: 'ready' }
  | { type: 'task'; data: TaskEventData }
  | { type: 'suggestion'; data: SuggestionEventData }
  | { type: 'reminder'; data: ReminderEventData };

export interface LiveEffects {
  refetchTasks: boolean;
  refetchSuggestions: boolean;
  reminders: ReminderEventData[];
}

export const NO_EFFECTS: LiveEffects = { refetchTasks: false, refetchSuggestions: false, reminders: [] };

/** Parses one event's data; malformed data is ignored, never thrown. */
export function parseLiveEvent(type: string, raw: string): LiveEvent | null {
  if (type === 'ready') return { type: 'ready' };
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!data || typeof data !== 'object') return null;
  const d = data as Record<string, unknown>;
  switch (type) {
    case 'task':
      return typeof d.eventType === 'string' && typeof d.taskId === 'string'
        ? { type, data: { eventType: d.eventType, taskId: d.taskId } }
        : null;
    case 'suggestion':
      return typeof d.suggestionId === 'string'
        ? {
            type,
            data: {
              suggestionId: d.suggestionId,
              kind: String(d.kind ?? ''),
              status: String(d.status ?? ''),
              taskId: typeof d.taskId === 'string' ? d.taskId : null,
              title: String(d.title ?? ''),
            },
          }
        : null;
    case 'reminder':
      return typeof d.taskId === 'string'
        ? {
            type,
            data: { taskId: d.taskId, title: String(d.title ?? 'A task'), dueAt: typeof d.dueAt === 'string' ? d.dueAt : null },
          }
        : null;
    default:
      return null;
  }
}

/**
 * Folds one event into the pending effects. Several events in quick succession (a recurring
 * completion sends two task events, an accepted suggestion a task and a suggestion event)
 * collapse into one refetch per kind.
 */
export function reduceLive(effects: LiveEffects, event: LiveEvent): LiveEffects {
  switch (event.type) {
    case 'ready':
      // A (re)connection may have missed anything: refresh everything once.
      return { ...effects, refetchTasks: true, refetchSuggestions: true };
    case 'task':
      // Reminders alone change nothing in the list; the reminder event brings the toast.
      if (event.data.eventType === 'tasks.reminder') return effects;
      return { ...effects, refetchTasks: true };
    case 'suggestion':
      // Accepting a suggestion may have changed its task.
      return { ...effects, refetchSuggestions: true, refetchTasks: effects.refetchTasks || event.data.status === 'accepted' };
    case 'reminder':
      return { ...effects, reminders: [...effects.reminders, event.data] };
  }
}

/**
 * What to do now and what to keep for later. While the user's own change is on its way
 * (`busy`), a refetch would answer with the state from before it lands and undo its
 * optimistic update on screen until the change's own refresh: rows jump back and forth under
 * the pointer. So refetches wait until no change is pending; reminders never wait.
 */
export function splitFlush(effects: LiveEffects, busy: boolean): { now: LiveEffects; later: LiveEffects } {
  if (!busy) return { now: effects, later: NO_EFFECTS };
  return {
    now: { ...NO_EFFECTS, reminders: effects.reminders },
    later: { ...effects, reminders: [] },
  };
}
