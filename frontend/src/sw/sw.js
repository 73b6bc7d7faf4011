/* The web app's service worker, served as /sw.js (scope /). Plain JavaScript, no library: what
 * it does is small and specific (spec.md, "Installable app, offline shell, notifications"), and
 * a generated Workbox worker would add a large build dependency for less control over what must
 * never be intercepted. The build (vite.config.ts, `serviceWorker()`) replaces BUILD with the
 * built files and a hash of their contents, so every deployment is a new worker.
 *
 * - The app shell (index.html, the hashed bundles, icons) is precached at install and served
 *   from the cache; pages are network-first and fall back to the cached index.html offline.
 * - The list GETs the app loads at start are network-first; the last good answer is kept in
 *   API_CACHE and served, marked with OFFLINE_HEADER, only when the network fails.
 * - Nothing else is touched: writes, the live-update stream, /auth, the calendar feed, other
 *   origins all go to the network as if there were no worker.
 * - A new worker takes over at once (skipWaiting + claim) and deletes the old shell, so no
 *   stale code is served past the next load.
 * - Push messages become notifications; a click focuses (or opens) the app at the message's URL.
 */
/* eslint-env serviceworker */

const BUILD = /* build */ { version: 'development', files: [] } /* build */;

const SHELL_CACHE = `todo-shell-${BUILD.version}`;
/** Also named in src/lib/offline-data.ts, where the app keeps the signed-in user. */
const API_CACHE = 'todo-api-v1';
/** Also named in src/lib/online.ts: the app shows its offline banner on such an answer. */
const OFFLINE_HEADER = 'x-served-offline';
/** Exactly these paths (any query): what the first screen loads. Single tasks, chat, the
 * stream (`/api/v1/stream`) and everything else stay uncached. */
const CACHED_API = new Set(['/api/v1/tasks', '/api/v1/projects', '/api/v1/user/preferences', '/api/v1/suggestions']);

/** Bumped when the app asks to forget the API cache: answers to requests sent before then are
 * not written back. */
let generation = 0;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // `reload`: past the HTTP cache, so the shell is this deployment's, not a cached older one.
      await cache.addAll(BUILD.files.map((path) => new Request(path, { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith('todo-shell-') && n !== SHELL_CACHE).map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'forget-api-cache') {
    generation += 1;
    event.waitUntil(caches.delete(API_CACHE));
  }
});

self.addEventListener('fetch', (event) => {
  const handler = route(event.request);
  if (handler) event.respondWith(handler(event));
});

/** The strategy for a request, or null to leave it to the browser. */
function route(request) {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  if (url.pathname.startsWith('/api/')) {
    const stream = (request.headers.get('accept') || '').includes('text/event-stream');
    return CACHED_API.has(url.pathname) && !stream ? apiNetworkFirst : null;
  }
  if (request.mode === 'navigate') return page;
  if (BUILD.files.includes(url.pathname)) return shellFile;
  return null;
}

async function apiNetworkFirst(event) {
  const { request } = event;
  const sentIn = generation;
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const cached = await caches.match(request, { cacheName: API_CACHE });
    if (!cached) throw error;
    const headers = new Headers(cached.headers);
    headers.set(OFFLINE_HEADER, '1');
    return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
  }
  if (response.status === 401) {
    // The session is over: its data goes (the app deletes it too; this covers a closed tab).
    event.waitUntil(caches.delete(API_CACHE));
  } else if (response.ok && sentIn === generation) {
    const copy = response.clone();
    event.waitUntil(caches.open(API_CACHE).then((cache) => (sentIn === generation ? cache.put(request, copy) : undefined)));
  }
  return response;
}

/** Pages: the server's index.html when it answers (a new deployment shows at once), this
 * deployment's own otherwise. */
async function page(event) {
  try {
    return await fetch(event.request);
  } catch (error) {
    const cached = await caches.match('/index.html', { cacheName: SHELL_CACHE });
    if (!cached) throw error;
    return cached;
  }
}

async function shellFile(event) {
  const cached = await caches.match(event.request, { cacheName: SHELL_CACHE });
  return cached || fetch(event.request);
}

const GENERIC = { title: 'Todo', body: 'Something needs your attention.', url: '/' };

/** `{title, body, tag, url, kind}` from the server; anything else (no data, not JSON, wrong
 * types) still shows a notification, as `userVisibleOnly` promises the browser. */
function parsePush(data) {
  let payload = null;
  try {
    payload = data ? data.json() : null;
  } catch {
    payload = null;
  }
  if (!payload || typeof payload !== 'object') return { ...GENERIC };
  const text = (v) => (typeof v === 'string' && v.trim() ? v : undefined);
  return {
    title: text(payload.title) || GENERIC.title,
    body: text(payload.body) || '',
    tag: text(payload.tag),
    url: samePath(payload.url),
    kind: text(payload.kind),
  };
}

/** Only the app's own pages are opened from a notification. */
function samePath(url) {
  try {
    const u = new URL(typeof url === 'string' ? url : '/', self.location.origin);
    return u.origin === self.location.origin ? u.pathname + u.search + u.hash : '/';
  } catch {
    return '/';
  }
}

self.addEventListener('push', (event) => {
  const message = parsePush(event.data);
  event.waitUntil(
    self.registration.showNotification(message.title, {
      body: message.body,
      // The same tag replaces the earlier notification (one per reminder, not a pile).
      tag: message.tag,
      data: { url: message.url, kind: message.kind },
      icon: '/icons/icon-192.png',
      badge: '/icons/badge-96.png',
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || '/', self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((c) => new URL(c.url).origin === self.location.origin);
      if (!open) return self.clients.openWindow(target);
      const focused = await open.focus();
      if (focused.url === target) return focused;
      try {
        return await focused.navigate(target);
      } catch {
        // Not controlled by this worker yet (navigate refuses): the tab is focused at least.
        return focused;
      }
    })(),
  );
});
