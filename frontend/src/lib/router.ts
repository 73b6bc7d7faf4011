/**
 * The app has a handful of screens; a tiny history-based router is enough and keeps a routing
 * library out of the bundle. The backend answers every unknown path with index.html.
 */
import { useSyncExternalStore } from 'react';

export const paths = {
  app: '/',
  signIn: '/signin',
  signUp: '/signup',
  settings: '/settings',
  today: '/today',
  upcoming: '/upcoming',
  completed: '/completed',
  project: (id: string) => `/projects/${encodeURIComponent(id)}`,
} as const;

/** The project a path shows (`/projects/<id>`), if it is a project's path. */
export function projectOf(path: string): string | null {
  const m = /^\/projects\/([^/]+)\/?$/.exec(path);
  return m ? decodeURIComponent(m[1]) : null;
}

const listeners = new Set<() => void>();

function subscribe(l: () => void) {
  listeners.add(l);
  window.addEventListener('popstate', l);
  return () => {
    listeners.delete(l);
    window.removeEventListener('popstate', l);
  };
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === window.location.pathname + window.location.search) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  listeners.forEach((l) => l());
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname, () => '/');
}
