/**
 * The service worker's own behaviour, run from its source (src/sw/sw.js) against stand-ins for
 * the worker's globals: Cache Storage, fetch, the registration and the window clients. The
 * browser test (e2e) covers the same worker in Chromium.
 */
import { describe, expect, it, vi } from 'vitest';
import SOURCE from '../sw.js?raw';

const ORIGIN = 'https://todo.example';

type Handler = (event: Record<string, unknown>) => void;

function keyOf(r: Request | string) {
  return new URL(typeof r === 'string' ? r : r.url, ORIGIN).href;
}

/** Loads the worker as the build writes it (BUILD replaced), with fake globals. */
function loadWorker(opts: { files?: string[]; network?: (r: Request) => Promise<Response> } = {}) {
  const build = { version: 'v2', files: opts.files ?? ['/index.html', '/assets/index-abc.js'] };
  const source = SOURCE.replace(/\/\* build \*\/.*\/\* build \*\//, JSON.stringify(build));
  const stores = new Map<string, Map<string, Response>>();
  const open = async (name: string) => {
    if (!stores.has(name)) stores.set(name, new Map());
    const store = stores.get(name)!;
    return {
      put: async (r: Request | string, res: Response) => void store.set(keyOf(r), res),
      addAll: async (rs: Request[]) => rs.forEach((r) => store.set(keyOf(r), new Response(`shell ${keyOf(r)}`))),
      match: async (r: Request | string) => store.get(keyOf(r))?.clone(),
    };
  };
  const caches = {
    open,
    keys: async () => [...stores.keys()],
    delete: async (name: string) => stores.delete(name),
    match: async (r: Request | string, o: { cacheName: string }) => stores.get(o.cacheName)?.get(keyOf(r))?.clone(),
  };
  const network = vi.fn(opts.network ?? (async () => new Response('{"items":[]}', { status: 200 })));
  const handlers: Record<string, Handler> = {};
  const windows: { url: string; focus: () => Promise<unknown>; navigate: (u: string) => Promise<unknown> }[] = [];
  const self = {
    location: { origin: ORIGIN },
    addEventListener: (type: string, h: Handler) => void (handlers[type] = h),
    skipWaiting: vi.fn(async () => undefined),
    registration: { showNotification: vi.fn(async () => undefined) },
    clients: { claim: vi.fn(async () => undefined), matchAll: vi.fn(async () => windows), openWindow: vi.fn(async () => null) },
  };
  // In a worker, relative URLs are relative to its location.
  class WorkerRequest extends Request {
    constructor(input: RequestInfo | URL, init?: RequestInit) {
      super(typeof input === 'string' ? new URL(input, ORIGIN) : input, init);
    }
  }
  new Function('self', 'caches', 'fetch', 'Request', source)(self, caches, network, WorkerRequest);

  /** Dispatches an event; resolves with what it answered (fetch) once its work is done. */
  const dispatch = async (type: string, event: Record<string, unknown>) => {
    const waits: Promise<unknown>[] = [];
    let responded: Promise<Response> | undefined;
    handlers[type]!({ ...event, waitUntil: (p: Promise<unknown>) => waits.push(p), respondWith: (p: Promise<Response>) => (responded = p) });
    const response = responded ? await responded.catch((e: unknown) => e) : undefined;
    await Promise.all(waits);
    return response;
  };
  const get = (path: string, init: RequestInit = {}) => {
    const { mode, ...rest } = init;
    const request = new Request(new URL(path, ORIGIN), rest);
    // No constructed Request has the mode "navigate"; the browser's page loads do.
    if (mode === 'navigate') Object.defineProperty(request, 'mode', { value: 'navigate' });
    return dispatch('fetch', { request });
  };
  return { self, stores, network, dispatch, get, windows };
}

describe('the service worker: what it leaves alone', () => {
  it('does not answer writes, the live stream, /auth, the calendar feed, other API paths or other origins', async () => {
    const w = loadWorker();
    const untouched = [
      w.get('/api/v1/tasks', { method: 'POST', body: '{}' }),
      w.get('/api/v1/stream', { headers: { accept: 'text/event-stream' } }),
      w.get('/api/v1/tasks', { headers: { accept: 'text/event-stream' } }),
      w.get('/api/v1/auth/me'),
      w.get('/api/v1/calendar/abc.ics'),
      w.get('/api/v1/tasks/123'),
      w.get('/api/v1/ai/conversations'),
      w.get('https://elsewhere.example/api/v1/tasks'),
      w.get('/unknown.txt'),
    ];
    expect(await Promise.all(untouched)).toEqual(Array(untouched.length).fill(undefined));
    expect(w.network).not.toHaveBeenCalled();
  });
});

describe('the service worker: lists, network first', () => {
  it('passes the network’s answer through and keeps it, then serves it marked when the network fails', async () => {
    let up = true;
    const w = loadWorker({ network: async () => (up ? new Response('{"items":[1]}', { status: 200 }) : Promise.reject(new TypeError('offline'))) });
    const first = (await w.get('/api/v1/tasks?status=open')) as Response;
    expect(await first.text()).toBe('{"items":[1]}');
    expect(first.headers.get('x-served-offline')).toBeNull();
    up = false;
    const kept = (await w.get('/api/v1/tasks?status=open')) as Response;
    expect(await kept.text()).toBe('{"items":[1]}');
    expect(kept.headers.get('x-served-offline')).toBe('1');
    // Another query was never loaded: the failure stands.
    expect(await w.get('/api/v1/tasks?status=completed')).toBeInstanceOf(TypeError);
  });

  it('keeps no error answers, and forgets everything on a 401', async () => {
    let status = 200;
    const w = loadWorker({ network: async () => new Response('{}', { status }) });
    await w.get('/api/v1/projects');
    expect([...w.stores.get('todo-api-v1')!.keys()]).toEqual([`${ORIGIN}/api/v1/projects`]);
    status = 500;
    await w.get('/api/v1/user/preferences');
    expect([...w.stores.get('todo-api-v1')!.keys()]).toEqual([`${ORIGIN}/api/v1/projects`]);
    status = 401;
    await w.get('/api/v1/projects');
    expect(w.stores.has('todo-api-v1')).toBe(false);
  });

  it('on "forget", deletes the kept lists and does not write back an answer to an earlier request', async () => {
    let release!: () => void;
    const w = loadWorker({ network: () => new Promise((r) => (release = () => r(new Response('{"items":["old"]}')))) });
    const pending = w.get('/api/v1/tasks');
    await w.dispatch('message', { data: { type: 'forget-api-cache' } });
    release();
    await pending;
    expect(w.stores.get('todo-api-v1')?.size ?? 0).toBe(0);
  });
});

describe('the service worker: the app shell', () => {
  it('precaches the build at install, takes over, and deletes older shells', async () => {
    const w = loadWorker();
    w.stores.set('todo-shell-v1', new Map());
    await w.dispatch('install', {});
    expect([...w.stores.get('todo-shell-v2')!.keys()]).toEqual([`${ORIGIN}/index.html`, `${ORIGIN}/assets/index-abc.js`]);
    expect(w.self.skipWaiting).toHaveBeenCalled();
    await w.dispatch('activate', {});
    expect(w.stores.has('todo-shell-v1')).toBe(false);
    expect(w.self.clients.claim).toHaveBeenCalled();
  });

  it('loads pages from the network, and this build’s index.html when offline', async () => {
    let up = true;
    const w = loadWorker({ network: async () => (up ? new Response('fresh page') : Promise.reject(new TypeError('offline'))) });
    await w.dispatch('install', {});
    expect(await ((await w.get('/upcoming', { mode: 'navigate' })) as Response).text()).toBe('fresh page');
    up = false;
    expect(await ((await w.get('/upcoming', { mode: 'navigate' })) as Response).text()).toBe(`shell ${ORIGIN}/index.html`);
    expect(await ((await w.get('/assets/index-abc.js')) as Response).text()).toBe(`shell ${ORIGIN}/assets/index-abc.js`);
  });
});

describe('the service worker: notifications', () => {
  const push = (data: string | null) => ({ data: data === null ? null : { json: () => JSON.parse(data) } });

  it('shows a push’s title, body and tag, with the URL to open', async () => {
    const w = loadWorker();
    await w.dispatch('push', push(JSON.stringify({ title: 'Reminder: Pay rent', body: 'Due at 10:00', tag: 'reminder-1', url: '/upcoming', kind: 'reminder' })));
    expect(w.self.registration.showNotification).toHaveBeenCalledWith('Reminder: Pay rent', {
      body: 'Due at 10:00',
      tag: 'reminder-1',
      data: { url: '/upcoming', kind: 'reminder' },
      icon: '/icons/icon-192.png',
      badge: '/icons/badge-96.png',
    });
  });

  it('shows a generic notification for a push without data or with data that is not JSON', async () => {
    const w = loadWorker();
    await w.dispatch('push', push(null));
    await w.dispatch('push', push('not json'));
    await w.dispatch('push', push('"a string"'));
    for (const [title, options] of w.self.registration.showNotification.mock.calls as unknown as [string, { data: { url: string } }][]) {
      expect(title).toBe('Todo');
      expect(options.data.url).toBe('/');
    }
    expect(w.self.registration.showNotification).toHaveBeenCalledTimes(3);
  });

  it('opens only the app’s own pages', async () => {
    const w = loadWorker();
    await w.dispatch('push', push(JSON.stringify({ title: 'x', url: 'https://evil.example/phish' })));
    const [, options] = w.self.registration.showNotification.mock.calls[0] as unknown as [string, { data: { url: string } }];
    expect(options.data.url).toBe('/');
  });

  it('a click focuses the open app tab and takes it to the URL, or opens one', async () => {
    const w = loadWorker();
    const close = vi.fn();
    const navigate = vi.fn(async (u: string) => ({ url: u }));
    const tab = { url: `${ORIGIN}/`, focus: vi.fn(async () => tab), navigate };
    w.windows.push(tab);
    await w.dispatch('notificationclick', { notification: { close, data: { url: '/upcoming' } } });
    expect(close).toHaveBeenCalled();
    expect(tab.focus).toHaveBeenCalled();
    expect(navigate).toHaveBeenCalledWith(`${ORIGIN}/upcoming`);
    w.windows.length = 0;
    await w.dispatch('notificationclick', { notification: { close, data: { url: '/today' } } });
    expect(w.self.clients.openWindow).toHaveBeenCalledWith(`${ORIGIN}/today`);
  });
});
