/** The signed-in screen: quick add, filters, the task list, suggestions, chat and settings. */
import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { ShortcutsDialog, isTypingTarget } from '@/components/shortcuts';
import { useToasts } from '@/components/toasts';
import { useSignOut } from '@/features/auth/api';
import { useLiveUpdates } from '@/features/live/useLiveUpdates';
import type { ReminderEventData } from '@/features/live/events';
import { usePreferences } from '@/features/preferences/api';
import { SuggestionsPanel } from '@/features/suggestions/components/SuggestionsPanel';
import { openTotal, useSuggestions } from '@/features/suggestions/api';
import { defaultFilters, deleteTask, fetchTask, hideTask, useSetCompleted, type TaskFilters as Filters } from '@/features/tasks/api';
import { EDITOR_DRAFT, TaskEditor, type EditorDraft } from '@/features/tasks/components/TaskEditor';
import { QuickAdd } from '@/features/tasks/components/QuickAdd';
import { TaskFilters } from '@/features/tasks/components/TaskFilters';
import { TaskList } from '@/features/tasks/components/TaskList';
import { errorMessage } from '@/lib/api-client';
import { browserTimeZone, formatDue } from '@/lib/dates';
import { loadDraft } from '@/lib/drafts';
import { navigate, paths } from '@/lib/router';
import { effectiveTheme, type ThemeChoice } from '@/lib/theme';
import type { Task, User } from '@/lib/types';
import { useDebounced } from '@/lib/use-debounced';

// Settings and chat are off the first screen's path; loading them later keeps the first
// paint small.
const SettingsView = lazy(() => import('@/features/preferences/components/SettingsView').then((m) => ({ default: m.SettingsView })));
const ChatPanel = lazy(() => import('@/features/chat/components/ChatPanel').then((m) => ({ default: m.ChatPanel })));

const UNDO_MS = 5000;
const FILTERS_KEY = 'task-filters';

function initialFilters(): Filters {
  try {
    const raw = localStorage.getItem(FILTERS_KEY);
    if (raw) return { ...defaultFilters, ...(JSON.parse(raw) as Partial<Filters>), search: '' };
  } catch {
    // fall through
  }
  return defaultFilters;
}

interface Props {
  user: User;
  path: string;
  theme: ThemeChoice;
  setTheme: (t: ThemeChoice) => void;
}

export function AppShell({ user, path, theme, setTheme }: Props) {
  const qc = useQueryClient();
  const toasts = useToasts();
  const prefs = usePreferences();
  const timeZone = prefs.data?.timeZone ?? browserTimeZone();
  const [filters, setFilters] = useState<Filters>(initialFilters);
  const [search, setSearch] = useState('');
  const debouncedSearch = useDebounced(search, 250);
  const [editing, setEditing] = useState<Task | null | undefined>(undefined);
  const [showHelp, setShowHelp] = useState(false);
  const [showSuggestions, setShowSuggestions] = useState(true);
  const [showChat, setShowChat] = useState(false);
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const [now, setNow] = useState(() => new Date());
  const quickAddRef = useRef<HTMLInputElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const pendingDeletes = useRef(new Map<string, { timer: ReturnType<typeof setTimeout>; undo: () => void }>());
  const setCompleted = useSetCompleted();
  const signOut = useSignOut();
  const suggestions = useSuggestions();
  const openSuggestions = suggestions.data ? openTotal(suggestions.data) : 0;
  const onSettings = path === paths.settings;

  const effectiveFilters: Filters = { ...filters, search: debouncedSearch };

  useEffect(() => {
    try {
      localStorage.setItem(FILTERS_KEY, JSON.stringify({ ...filters, search: '' }));
    } catch {
      // Filters then reset on the next visit.
    }
  }, [filters]);

  useEffect(() => {
    const id = setInterval(() => setNow(new Date()), 30_000);
    return () => clearInterval(id);
  }, []);

  // Reopen the editor with what was typed before the session ran out.
  useEffect(() => {
    const draft = loadDraft<EditorDraft>(EDITOR_DRAFT);
    if (draft) setEditing(draft.task);
  }, []);

  const onReminder = useCallback(
    (r: ReminderEventData) => {
      const when = r.dueAt ? ` — due ${formatDue(r.dueAt, new Date(), timeZone)}` : '';
      const canAsk = typeof Notification !== 'undefined' && Notification.permission === 'default';
      toasts.show({
        tone: 'reminder',
        message: `Reminder: ${r.title}${when}`,
        duration: 0,
        // Asked at the moment it is useful, not on first visit, so the prompt makes sense.
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
  const live = useLiveUpdates(true, onReminder);

  const toggle = useCallback(
    (t: Task) => {
      setCompleted.mutate(
        { id: t.id, completed: !t.completed },
        {
          onSuccess: (res) => {
            const next = 'task' in res ? res.nextTask : null;
            if (!t.completed && next?.dueAt) toasts.show({ tone: 'success', message: `Done. Next one due ${formatDue(next.dueAt, new Date(), timeZone)}.` });
          },
          onError: (e) => toasts.show({ tone: 'error', message: errorMessage(e) }),
        },
      );
    },
    [setCompleted, toasts, timeZone],
  );

  const remove = useCallback(
    async (t: Task) => {
      // Deleting is delayed, not reversed: the task disappears at once and the DELETE is
      // sent only when the Undo window closes, so Undo restores exactly the same task.
      const rollback = await hideTask(qc, t.id);
      setHidden((h) => new Set(h).add(t.id));
      const unhide = () =>
        setHidden((h) => {
          const n = new Set(h);
          n.delete(t.id);
          return n;
        });
      const timer = setTimeout(() => {
        pendingDeletes.current.delete(t.id);
        deleteTask(t.id)
          .then(() => void qc.invalidateQueries({ queryKey: ['tasks'] }))
          .catch((e) => {
            rollback();
            toasts.show({ tone: 'error', message: `Could not delete “${t.title}”: ${errorMessage(e)}` });
          })
          .finally(unhide);
      }, UNDO_MS);
      pendingDeletes.current.set(t.id, {
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
            const p = pendingDeletes.current.get(t.id);
            if (!p) return;
            clearTimeout(p.timer);
            pendingDeletes.current.delete(t.id);
            p.undo();
            void qc.invalidateQueries({ queryKey: ['tasks'] });
          },
        },
      });
    },
    [qc, toasts],
  );

  // Leaving the page (or signing out) inside an Undo window still deletes: the user did
  // not undo.
  const flushDeletes = useCallback(() => {
    const sent: Promise<void>[] = [];
    pendingDeletes.current.forEach((p, id) => {
      clearTimeout(p.timer);
      sent.push(deleteTask(id, true).catch(() => undefined));
    });
    pendingDeletes.current.clear();
    return Promise.all(sent);
  }, []);

  useEffect(() => {
    const onHide = () => void flushDeletes();
    window.addEventListener('pagehide', onHide);
    return () => {
      window.removeEventListener('pagehide', onHide);
      void flushDeletes();
    };
  }, [flushDeletes]);

  const toggleTheme = useCallback(() => {
    const next = effectiveTheme(theme) === 'dark' ? 'light' : 'dark';
    setTheme(next);
  }, [theme, setTheme]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
      if (document.querySelector('dialog[open]')) return;
      const map: Record<string, () => void> = {
        n: () => {
          navigate(paths.app);
          setTimeout(() => quickAddRef.current?.focus());
        },
        N: () => setEditing(null),
        '/': () => {
          navigate(paths.app);
          setTimeout(() => searchRef.current?.focus());
        },
        s: () => setShowSuggestions((v) => !v),
        c: () => setShowChat(true),
        t: toggleTheme,
        ',': () => navigate(paths.settings),
        '?': () => setShowHelp(true),
      };
      const action = map[e.key];
      if (action) {
        e.preventDefault();
        action();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [toggleTheme]);

  const doSignOut = () =>
    void flushDeletes().then(() =>
      signOut.mutate(undefined, {
        onSettled: () => navigate(paths.signIn, { replace: true }),
      }),
    );

  const showError = useCallback((m: string) => toasts.show({ tone: 'error', message: m }), [toasts]);
  const showInfo = useCallback((m: string) => toasts.show({ tone: 'success', message: m }), [toasts]);

  return (
    <div className={`shell${showChat ? ' with-chat' : ''}`}>
      <a href="#main" className="skip-link">
        Skip to tasks
      </a>
      <header className="topbar">
        <a
          href={paths.app}
          className="brand"
          onClick={(e) => {
            e.preventDefault();
            navigate(paths.app);
          }}
        >
          <span className="brand-mark" aria-hidden="true">✓</span> Todo
        </a>
        <span className={`live live-${live}`} title={live === 'live' ? 'Live updates on' : 'Reconnecting…'}>
          <span className="sr-only">{live === 'live' ? 'Live updates on' : 'Live updates reconnecting'}</span>
        </span>
        <nav className="topbar-actions" aria-label="Main">
          <button
            type="button"
            className="btn btn-ghost sg-toggle"
            aria-pressed={showSuggestions}
            onClick={() => {
              navigate(paths.app);
              setShowSuggestions((v) => !v);
            }}
          >
            Suggestions{openSuggestions > 0 && <span className="count">{openSuggestions}</span>}
          </button>
          <button type="button" className="btn btn-ghost" aria-pressed={showChat} onClick={() => setShowChat((v) => !v)}>
            Assistant
          </button>
          <button type="button" className="icon-btn" onClick={toggleTheme} aria-label={effectiveTheme(theme) === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}>
            {effectiveTheme(theme) === 'dark' ? '☀' : '☾'}
          </button>
          <button type="button" className="icon-btn shortcuts-btn" onClick={() => setShowHelp(true)} aria-label="Keyboard shortcuts">
            ?
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => navigate(paths.settings)} aria-current={onSettings ? 'page' : undefined}>
            Settings
          </button>
          <button type="button" className="btn btn-ghost" onClick={doSignOut} title={user.email}>
            Sign out
          </button>
        </nav>
      </header>

      <div className="layout">
        <main id="main" className="content" tabIndex={-1}>
          {onSettings ? (
            <Suspense fallback={<p className="muted">Loading settings…</p>}>
              <SettingsView theme={theme} onTheme={setTheme} onSaved={showInfo} onBack={() => navigate(paths.app)} />
            </Suspense>
          ) : (
            <>
              <h1 className="sr-only">Your tasks</h1>
              <div className="add-row">
                <QuickAdd ref={quickAddRef} timeZone={timeZone} onCreated={(title) => showInfo(`Added “${title}”.`)} onError={showError} />
                <button type="button" className="btn" onClick={() => setEditing(null)}>
                  New task…
                </button>
              </div>
              <TaskFilters ref={searchRef} value={filters} search={search} onSearch={setSearch} onChange={setFilters} />
              <TaskList
                filters={effectiveFilters}
                now={now}
                timeZone={timeZone}
                hidden={hidden}
                onToggle={toggle}
                onEdit={setEditing}
                onDelete={(t) => void remove(t)}
                onTag={(tag) => setFilters((f) => ({ ...f, tag }))}
                onClearFilters={() => {
                  setSearch('');
                  setFilters(defaultFilters);
                }}
                onNew={() => setEditing(null)}
              />
            </>
          )}
        </main>
        {showSuggestions && !onSettings && (
          <SuggestionsPanel
            agentsEnabled={prefs.data?.autonomousAgentsEnabled}
            onError={showError}
            onDone={showInfo}
            onOpenTask={(id) =>
              void fetchTask(id)
                .then(setEditing)
                .catch((e) => showError(errorMessage(e)))
            }
            now={now}
          />
        )}
        {showChat && (
          <Suspense fallback={null}>
            <ChatPanel onClose={() => setShowChat(false)} />
          </Suspense>
        )}
      </div>

      <TaskEditor
        task={editing}
        timeZone={timeZone}
        defaultOffset={prefs.data?.reminderOffsetMinutes ?? 30}
        onClose={() => setEditing(undefined)}
        onSaved={showInfo}
      />
      <ShortcutsDialog open={showHelp} onClose={() => setShowHelp(false)} />
    </div>
  );
}
