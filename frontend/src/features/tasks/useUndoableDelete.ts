/**
 * Deleting with Undo. Deleting is delayed, not reversed: the task disappears at once and the
 * DELETE is sent only when the Undo window closes, so Undo restores exactly the same task.
 * Leaving the page (or signing out, through `flush`) inside an Undo window still deletes: the
 * user did not undo.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useToasts } from '@/components/toasts';
import { errorMessage } from '@/lib/api-client';
import type { Task } from '@/lib/types';
import { deleteTask, hideTask } from './api';

export const UNDO_MS = 5000;

interface Pending {
  timer: ReturnType<typeof setTimeout>;
  undo: () => void;
}

export function useUndoableDelete() {
  const qc = useQueryClient();
  const toasts = useToasts();
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const pending = useRef(new Map<string, Pending>());

  const remove = useCallback(
    async (t: Task) => {
      const rollback = await hideTask(qc, t.id);
      setHidden((h) => new Set(h).add(t.id));
      const unhide = () =>
        setHidden((h) => {
          const n = new Set(h);
          n.delete(t.id);
          return n;
        });
      const timer = setTimeout(() => {
        pending.current.delete(t.id);
        deleteTask(t.id)
          .then(() => void qc.invalidateQueries({ queryKey: ['tasks'] }))
          .catch((e) => {
            rollback();
            toasts.show({ tone: 'error', message: `Could not delete “${t.title}”: ${errorMessage(e)}` });
          })
          .finally(unhide);
      }, UNDO_MS);
      pending.current.set(t.id, {
        timer,
        undo: () => {
          rollback();
          unhide();
        },
      });
      toasts.show({
        tone: 'info',
        message: `Deleted “${t.title}”.`,
        duration: UNDO_MS,
        action: {
          label: 'Undo',
          onClick: () => {
            const p = pending.current.get(t.id);
            if (!p) return;
            clearTimeout(p.timer);
            pending.current.delete(t.id);
            p.undo();
            void qc.invalidateQueries({ queryKey: ['tasks'] });
          },
        },
      });
    },
    [qc, toasts],
  );

  /** Sends every delay's DELETE now (kept alive past the page's end). */
  const flush = useCallback(() => {
    const sent: Promise<void>[] = [];
    pending.current.forEach((p, id) => {
      clearTimeout(p.timer);
      sent.push(deleteTask(id, true).catch(() => undefined));
    });
    pending.current.clear();
    return Promise.all(sent);
  }, []);

  useEffect(() => {
    const onHide = () => void flush();
    window.addEventListener('pagehide', onHide);
    return () => {
      window.removeEventListener('pagehide', onHide);
      void flush();
    };
  }, [flush]);

  /** `hidden`: ids deleted but still inside their Undo window, kept off the list. */
  return { hidden, remove, flush };
}
