/**
 * Keeps the screen in step with the server over Server-Sent Events. EventSource reconnects
 * by itself; every (re)connection starts with `ready`, which refetches everything, so changes
 * made while disconnected are never missed.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { API_BASE } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import { NO_EFFECTS, parseLiveEvent, reduceLive, splitFlush, type LiveEffects, type ReminderEventData } from './events';

/** Coalesces bursts (a recurring completion, an accepted suggestion) into one refetch. */
const FLUSH_MS = 120;
/** The longest a refetch waits for the user's pending changes (a slow chat reply is one). */
const HOLD_MAX_MS = 3_000;
/** After the server refused the stream outright (EventSource then stops retrying). */
const RETRY_CLOSED_MS = 10_000;

export type LiveStatus = 'connecting' | 'live' | 'offline';

export function useLiveUpdates(enabled: boolean, onReminder: (r: ReminderEventData) => void): LiveStatus {
  const qc = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const [attempt, setAttempt] = useState(0);
  const reminderRef = useRef(onReminder);
  reminderRef.current = onReminder;

  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return;
    let pending: LiveEffects = NO_EFFECTS;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let heldSince: number | null = null;
    const flush = () => {
      timer = null;
      heldSince ??= Date.now();
      const { now: e, later } = splitFlush(pending, qc.isMutating() > 0 && Date.now() - heldSince < HOLD_MAX_MS);
      pending = later;
      if (later.refetchTasks || later.refetchSuggestions) timer = setTimeout(flush, FLUSH_MS);
      else heldSince = null;
      if (e.refetchTasks) void qc.invalidateQueries({ queryKey: queryKeys.tasks });
      if (e.refetchSuggestions) void qc.invalidateQueries({ queryKey: queryKeys.suggestions });
      e.reminders.forEach((r) => reminderRef.current(r));
    };
    const source = new EventSource(`${API_BASE}/stream`, { withCredentials: true });
    const handle = (type: string) => (msg: MessageEvent<string>) => {
      const event = parseLiveEvent(type, msg.data);
      if (!event) return;
      if (type === 'ready') setStatus('live');
      pending = reduceLive(pending, event);
      if (!timer) timer = setTimeout(flush, FLUSH_MS);
    };
    const types = ['ready', 'task', 'suggestion', 'reminder'];
    const listeners = types.map((t) => [t, handle(t)] as const);
    listeners.forEach(([t, l]) => source.addEventListener(t, l as EventListener));
    source.onerror = () => {
      // CLOSED means the server refused (e.g. 401, or no stream endpoint): EventSource gives
      // up, so try again later ourselves; a lost session is caught by the next API call.
      setStatus('offline');
      if (source.readyState === EventSource.CLOSED) {
        void qc.invalidateQueries({ queryKey: queryKeys.me });
        retry = setTimeout(() => setAttempt((a) => a + 1), RETRY_CLOSED_MS);
      }
    };
    return () => {
      listeners.forEach(([t, l]) => source.removeEventListener(t, l as EventListener));
      source.close();
      if (timer) clearTimeout(timer);
      if (retry) clearTimeout(retry);
    };
  }, [enabled, qc, attempt]);

  return status;
}
