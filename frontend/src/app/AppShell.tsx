/** The signed-in screen: quick add, filters, the task list, suggestions, chat and settings. */
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { ShortcutsDialog } from '@/components/shortcuts';
import { useToasts } from '@/components/toasts';
import { useSignOut } from '@/features/auth/api';
import { useLiveUpdates } from '@/features/live/useLiveUpdates';
import { useReminderToasts } from '@/features/live/useReminderToasts';
import { usePreferences } from '@/features/preferences/api';
import { useProjects } from '@/features/projects/api';
import { unsubscribeThisBrowser } from '@/features/push/api';
import { DeleteProjectDialog } from '@/features/projects/components/DeleteProjectDialog';
import { ProjectDialog } from '@/features/projects/components/ProjectDialog';
import { ProjectNav } from '@/features/projects/components/ProjectNav';
import { SuggestionsPanel } from '@/features/suggestions/components/SuggestionsPanel';
import { openTotal, useSuggestions } from '@/features/suggestions/api';
import { fetchTask, useSetCompleted } from '@/features/tasks/api';
import { useConfirmedToggle } from '@/features/tasks/components/ConfirmComplete';
import { EDITOR_DRAFT, TaskEditor, type EditorDraft } from '@/features/tasks/components/TaskEditor';
import { QuickAdd } from '@/features/tasks/components/QuickAdd';
import { TaskFilters } from '@/features/tasks/components/TaskFilters';
import { TaskList } from '@/features/tasks/components/TaskList';
import { defaultFilters, type TaskFilters as Filters } from '@/features/tasks/api';
import { UpcomingView } from '@/features/views/components/UpcomingView';
import { localDate } from '@/features/views/days';
import { useTaskFilters } from '@/features/tasks/useTaskFilters';
import { useUndoableDelete } from '@/features/tasks/useUndoableDelete';
import { errorMessage } from '@/lib/api-client';
import { browserTimeZone, formatDue } from '@/lib/dates';
import { loadDraft } from '@/lib/drafts';
import { navigate, paths, projectOf } from '@/lib/router';
import { useOnline } from '@/lib/online';
import { effectiveTheme, type ThemeChoice } from '@/lib/theme';
import type { Project, Task, User } from '@/lib/types';
import { OfflineBanner } from './OfflineBanner';
import { useShortcuts } from './useShortcuts';

// Settings and chat are off the first screen's path; loading them later keeps the first
// paint small.
const SettingsView = lazy(() => import('@/features/preferences/components/SettingsView').then((m) => ({ default: m.SettingsView })));
const ChatPanel = lazy(() => import('@/features/chat/components/ChatPanel').then((m) => ({ default: m.ChatPanel })));

type View = 'today' | 'upcoming' | 'completed';

const VIEW_OF_PATH: Record<string, View | undefined> = { [paths.today]: 'today', [paths.upcoming]: 'upcoming', [paths.completed]: 'completed' };
const VIEW_TITLES: Record<View, string> = { today: 'Today', upcoming: 'Upcoming', completed: 'Completed' };
/** The Upcoming view shows its empty days itself. */
const VIEW_EMPTY: Record<Exclude<View, 'upcoming'>, string> = {
  today: 'Nothing due today, and nothing overdue.',
  completed: 'Nothing completed yet.',
};

/** Today: open tasks due by the end of today in the user's zone, overdue ones first.
 * Completed: the most recently finished first. */
function viewFilters(view: View, today: string): Filters {
  if (view === 'today') return { ...defaultFilters, status: 'open', sort: 'dueAt', order: 'asc', dueBefore: today };
  return { ...defaultFilters, status: 'completed', sort: 'updatedAt', order: 'desc' };
}

interface Props {
  user: User;
  path: string;
  theme: ThemeChoice;
  setTheme: (t: ThemeChoice) => void;
}

export function AppShell({ user, path, theme, setTheme }: Props) {
  const toasts = useToasts();
  const prefs = usePreferences();
  const timeZone = prefs.data?.timeZone ?? browserTimeZone();
  const { filters, setFilters, search, setSearch, effective: effectiveFilters, filterByTag, clear: clearFilters } = useTaskFilters();
  const { hidden, remove, flush: flushDeletes } = useUndoableDelete();
  const [editing, setEditing] = useState<Task | null | undefined>(undefined);
  const [showHelp, setShowHelp] = useState(false);
  const [showSuggestions, setShowSuggestions] = useState(true);
  const [showChat, setShowChat] = useState(false);
  const [now, setNow] = useState(() => new Date());
  const quickAddRef = useRef<HTMLInputElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const setCompleted = useSetCompleted();
  const signOut = useSignOut();
  const suggestions = useSuggestions();
  const openSuggestions = suggestions.data ? openTotal(suggestions.data) : 0;
  const onSettings = path === paths.settings;
  const projectId = projectOf(path);
  const view = VIEW_OF_PATH[path];
  const projects = useProjects();
  const project = projectId ? projects.data?.find((p) => p.id === projectId) : undefined;
  const [editingProject, setEditingProject] = useState<Project | null | undefined>(undefined);
  const [deletingProject, setDeletingProject] = useState<Project | undefined>(undefined);
  const onReminder = useReminderToasts(timeZone);
  const live = useLiveUpdates(true, onReminder);
  const online = useOnline();

  useEffect(() => {
    const id = setInterval(() => setNow(new Date()), 30_000);
    return () => clearInterval(id);
  }, []);

  // Reopen the editor with what was typed before the session ran out.
  useEffect(() => {
    const draft = loadDraft<EditorDraft>(EDITOR_DRAFT);
    if (draft) setEditing(draft.task);
  }, []);

  const toggleNow = useCallback(
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
  const { toggle, dialog: confirmComplete } = useConfirmedToggle(toggleNow);

  const toggleTheme = useCallback(() => {
    const next = effectiveTheme(theme) === 'dark' ? 'light' : 'dark';
    setTheme(next);
  }, [theme, setTheme]);

  useShortcuts({
    n: () => {
      navigate(paths.app);
      setTimeout(() => quickAddRef.current?.focus());
    },
    N: () => online && setEditing(null),
    '/': () => {
      navigate(paths.app);
      setTimeout(() => searchRef.current?.focus());
    },
    s: () => setShowSuggestions((v) => !v),
    c: () => setShowChat(true),
    t: toggleTheme,
    ',': () => navigate(paths.settings),
    '?': () => setShowHelp(true),
  });

  const doSignOut = () =>
    void flushDeletes()
      // While the session lasts (the server needs it to forget this browser): whoever signs in
      // here next must not get this user's notifications. Best effort: offline, the browser
      // still stops them, and the server drops the subscription once the push service refuses it.
      .then(() => unsubscribeThisBrowser().catch(() => undefined))
      .then(() => signOut.mutate(undefined, { onSettled: () => navigate(paths.signIn, { replace: true }) }));

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
      <OfflineBanner />

      <div className="layout">
        <ProjectNav path={path} onAdd={() => setEditingProject(null)} />
        <main id="main" className="content" tabIndex={-1}>
          {onSettings ? (
            <Suspense fallback={<p className="muted">Loading settings…</p>}>
              <SettingsView theme={theme} onTheme={setTheme} onSaved={showInfo} onBack={() => navigate(paths.app)} />
            </Suspense>
          ) : (
            projectId && !project && projects.isSuccess ? (
              <div className="list-state empty" role="alert">
                <p className="empty-title">This project does not exist (any more).</p>
                <button type="button" className="btn" onClick={() => navigate(paths.app)}>
                  Show all tasks
                </button>
              </div>
            ) : (
            <>
              {project ? (
                <div className="project-head">
                  <h1>
                    <span className={`dot color-${project.color}`} aria-hidden="true" /> {project.name}
                  </h1>
                  <button type="button" className="btn btn-ghost" disabled={!online} onClick={() => setEditingProject(project)}>
                    Edit project
                  </button>
                  {!project.isInbox && (
                    <button type="button" className="btn btn-ghost" disabled={!online} onClick={() => setDeletingProject(project)}>
                      Delete project
                    </button>
                  )}
                </div>
              ) : view ? (
                <div className="project-head">
                  <h1>{VIEW_TITLES[view]}</h1>
                </div>
              ) : (
                <h1 className="sr-only">Your tasks</h1>
              )}
              <div className="add-row">
                <QuickAdd ref={quickAddRef} timeZone={timeZone} projectId={projectId ?? undefined} onCreated={(title) => showInfo(`Added “${title}”.`)} onError={showError} />
                <button type="button" className="btn" onClick={() => setEditing(null)} disabled={!online}>
                  New task…
                </button>
              </div>
              {view === 'upcoming' ? (
                <UpcomingView now={now} timeZone={timeZone} hidden={hidden} onToggle={toggle} onEdit={setEditing} onDelete={(t) => void remove(t)} onTag={filterByTag} onError={showError} />
              ) : (
                <>
                  {!view && <TaskFilters ref={searchRef} value={filters} search={search} onSearch={setSearch} onChange={setFilters} manualOrder={!!projectId} />}
                  <TaskList
                    filters={view ? viewFilters(view, localDate(now, timeZone)) : projectId ? { ...effectiveFilters, projectId, sort: 'position', order: 'asc' } : effectiveFilters}
                    sections={project?.sections}
                    empty={view ? <p className="list-state empty empty-title">{VIEW_EMPTY[view as Exclude<View, 'upcoming'>]}</p> : undefined}
                    now={now}
                    timeZone={timeZone}
                    hidden={hidden}
                    onToggle={toggle}
                    onEdit={setEditing}
                    onDelete={(t) => void remove(t)}
                    onTag={filterByTag}
                    onClearFilters={clearFilters}
                    onNew={() => setEditing(null)}
                    onError={showError}
                  />
                </>
              )}
            </>
            )
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
            timeZone={timeZone}
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
        defaultProjectId={projectId ?? undefined}
        onClose={() => setEditing(undefined)}
        onSaved={showInfo}
      />
      <ProjectDialog
        project={editingProject}
        onClose={() => setEditingProject(undefined)}
        onSaved={(saved, message) => {
          setEditingProject(undefined);
          showInfo(message);
          navigate(paths.project(saved.id));
        }}
      />
      <DeleteProjectDialog
        project={deletingProject}
        onClose={() => setDeletingProject(undefined)}
        onDeleted={(message) => {
          setDeletingProject(undefined);
          showInfo(message);
          navigate(paths.app);
        }}
      />
      {confirmComplete}
      <ShortcutsDialog open={showHelp} onClose={() => setShowHelp(false)} />
    </div>
  );
}
