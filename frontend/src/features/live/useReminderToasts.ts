/**
 * What a reminder event shows: a toast that stays until closed and, where the user allowed
 * it, a browser notification. Permission is asked from the toast, at the moment it is useful,
 * not on the first visit, so the browser's prompt makes sense.
 */
import { useCallback } from 'react';
import { useToasts } from '@/components/toasts';
import { formatDue } from '@/lib/dates';
import type { ReminderEventData } from './events';

export function useReminderToasts(timeZone: string): (r: ReminderEventData) => void {
  const toasts = useToasts();
  return useCallback(
    (r: ReminderEventData) => {
      const when = r.dueAt ? ` — due ${formatDue(r.dueAt, new Date(), timeZone)}` : '';
      const canAsk = typeof Notification !== 'undefined' && Notification.permission === 'default';
      toasts.show({
        tone: 'reminder',
        message: `Reminder: ${r.title}${when}`,
        duration: 0,
        action: canAsk ? { label: 'Notify me outside the app', onClick: () => void Notification.requestPermission() } : undefined,
      });
      if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
        try {
          new Notification(`Reminder: ${r.title}`, { body: when ? when.slice(3) : undefined, tag: `reminder-${r.taskId}` });
        } catch {
          // Some browsers only allow notifications from a service worker; the toast remains.
        }
      }
    },
    [timeZone, toasts],
  );
}
