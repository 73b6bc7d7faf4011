/**
 * Whether the app can reach the server, for the read-only offline shell: the browser says it
 * is offline (`navigator.onLine`, `offline` events), or the last API request failed at the
 * network or was answered by the service worker from its cache (`OFFLINE_HEADER`). The next
 * request the server itself answers makes the app online again.
 *
 * `navigator.onLine` alone is not enough: it is true on a network that cannot reach the
 * server (a captive portal, the server down), where writes would fail the same way.
 */
import { useSyncExternalStore } from 'react';

/** Set by the service worker (src/sw/sw.js) on an API response served from its cache because
 * the network failed. */
export const OFFLINE_HEADER = 'x-served-offline';

let browserOnline = typeof navigator === 'undefined' ? true : navigator.onLine;
let serverUnreachable = false;
const listeners = new Set<() => void>();

function emit() {
  listeners.forEach((l) => l());
}

/** The API client's report of each request's outcome: reached the server or not. */
export function reportServerReached(reached: boolean): void {
  if (serverUnreachable === !reached) return;
  serverUnreachable = !reached;
  emit();
}

export function isOnline(): boolean {
  return browserOnline && !serverUnreachable;
}

if (typeof window !== 'undefined') {
  window.addEventListener('online', () => {
    browserOnline = true;
    // Optimistic: the refetch that follows tells whether the server is back, too.
    serverUnreachable = false;
    emit();
  });
  window.addEventListener('offline', () => {
    browserOnline = false;
    emit();
  });
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** True while the app can write: offline, the screen is read-only. */
export function useOnline(): boolean {
  return useSyncExternalStore(subscribe, isOnline, () => true);
}

/** Calls `listener` each time the app comes back online (for a refetch of everything). */
export function onBackOnline(listener: () => void): () => void {
  let was = isOnline();
  return subscribe(() => {
    const now = isOnline();
    if (now && !was) listener();
    was = now;
  });
}
