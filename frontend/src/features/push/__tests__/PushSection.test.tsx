import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { stubFetch } from '@/test/fetch';
import { applicationServerKey, browserLabel } from '../api';
import { PushSection } from '../components/PushSection';

// A VAPID public key is 65 bytes, base64url without padding.
const KEY = 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U';
const OTHER = { id: 'b2', endpoint: 'https://push.example/other', label: 'Firefox on Android', createdAt: '2026-12-01T10:00:00Z' };

interface FakeBrowser {
  permission: NotificationPermission;
  /** What requestPermission answers. */
  answer?: NotificationPermission;
  subscribed?: string | null;
  worker?: boolean;
}

/** navigator.serviceWorker, PushManager and Notification as a browser has them, recording calls. */
function fakeBrowser(b: FakeBrowser) {
  let current: { endpoint: string; toJSON: () => object; unsubscribe: () => Promise<boolean> } | null = null;
  const unsubscribed: string[] = [];
  const subscribeCalls: PushSubscriptionOptionsInit[] = [];
  const makeSub = (endpoint: string) => ({
    endpoint,
    toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh: 'p256', auth: 'auth' } }),
    unsubscribe: async () => {
      unsubscribed.push(endpoint);
      current = null;
      return true;
    },
  });
  if (b.subscribed) current = makeSub(b.subscribed);
  const pushManager = {
    getSubscription: async () => current,
    subscribe: async (opts: PushSubscriptionOptionsInit) => {
      subscribeCalls.push(opts);
      current = makeSub('https://push.example/this');
      return current;
    },
  };
  vi.stubGlobal('PushManager', function PushManager() {});
  const requestPermission = vi.fn(async () => {
    b.permission = b.answer ?? 'granted';
    return b.permission;
  });
  vi.stubGlobal('Notification', { get permission() { return b.permission; }, requestPermission });
  Object.defineProperty(navigator, 'serviceWorker', {
    configurable: true,
    value: { getRegistration: async () => (b.worker === false ? undefined : { pushManager }) },
  });
  return { unsubscribed, subscribeCalls, requestPermission };
}

function renderSection(onSaved: (m: string) => void = () => {}) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <PushSection onSaved={onSaved} />
    </QueryClientProvider>,
  );
}

const api = (config: object, items: object[] = []) =>
  stubFetch((req) => {
    if (req.url === '/api/v1/push/config') return { status: 200, body: config };
    if (req.url === '/api/v1/push/subscriptions' && req.method === 'GET') return { status: 200, body: { items } };
    if (req.url === '/api/v1/push/subscriptions' && req.method === 'POST') {
      const body = req.body as { endpoint: string; label: string };
      return { status: 201, body: { id: 'new1', endpoint: body.endpoint, label: body.label, createdAt: '2026-12-07T10:00:00Z' } };
    }
    if (req.method === 'DELETE') return { status: 204 };
    return { status: 404, body: { code: 'not_found' } };
  });

describe('PushSection', () => {
  afterEach(() => {
    delete (navigator as { serviceWorker?: unknown }).serviceWorker;
  });

  it('says when the browser cannot receive push, without asking the server', async () => {
    const calls = stubFetch(() => ({ status: 200, body: {} }));
    renderSection();
    expect(screen.getByText('This browser cannot receive notifications from Todo.')).toBeInTheDocument();
    expect(screen.queryByRole('checkbox')).toBeNull();
    expect(calls).toEqual([]);
  });

  it('says when the server sends no push', async () => {
    fakeBrowser({ permission: 'default' });
    api({ enabled: false, publicKey: null });
    renderSection();
    expect(await screen.findByText('Notifications are not set up on this server.')).toBeInTheDocument();
    expect(screen.queryByRole('checkbox')).toBeNull();
  });

  it('treats a server without the push endpoints as one that sends no push', async () => {
    fakeBrowser({ permission: 'default' });
    stubFetch(() => ({ status: 404, body: { status: 404, code: 'not_found', title: 'Not found' } }));
    renderSection();
    expect(await screen.findByText('Notifications are not set up on this server.')).toBeInTheDocument();
  });

  it('explains a site blocked in the browser settings instead of offering the switch', async () => {
    fakeBrowser({ permission: 'denied' });
    api({ enabled: true, publicKey: KEY });
    renderSection();
    expect(await screen.findByText(/Notifications are blocked for this site/)).toBeInTheDocument();
    expect(screen.queryByRole('checkbox', { name: 'Notify me on this browser' })).toBeNull();
  });

  it('turns on: asks permission, subscribes with the server key and registers the subscription', async () => {
    const browser = fakeBrowser({ permission: 'default' });
    const calls = api({ enabled: true, publicKey: KEY }, [OTHER]);
    const saved: string[] = [];
    renderSection((m) => saved.push(m));
    const toggle = await screen.findByRole('checkbox', { name: 'Notify me on this browser' });
    expect(toggle).not.toBeChecked();
    await userEvent.click(toggle);
    await expect.poll(() => saved).toEqual(['Notifications turned on for this browser.']);
    expect(browser.requestPermission).toHaveBeenCalledOnce();
    expect(browser.subscribeCalls).toHaveLength(1);
    expect(browser.subscribeCalls[0]!.userVisibleOnly).toBe(true);
    expect(browser.subscribeCalls[0]!.applicationServerKey).toEqual(applicationServerKey(KEY));
    const post = calls.find((c) => c.method === 'POST');
    expect(post?.url).toBe('/api/v1/push/subscriptions');
    expect(post?.body).toEqual({ endpoint: 'https://push.example/this', expirationTime: null, keys: { p256dh: 'p256', auth: 'auth' }, label: browserLabel() });
    expect(screen.getByRole('checkbox', { name: 'Notify me on this browser' })).toBeChecked();
    // This browser is not listed among the others.
    expect(screen.getAllByRole('button', { name: /^Remove / }).map((b) => b.getAttribute('aria-label'))).toEqual(['Remove Firefox on Android']);
  });

  it('does not subscribe when permission is refused, and says so', async () => {
    const browser = fakeBrowser({ permission: 'default', answer: 'denied' });
    const calls = api({ enabled: true, publicKey: KEY });
    renderSection();
    await userEvent.click(await screen.findByRole('checkbox', { name: 'Notify me on this browser' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Notifications are blocked for this site.');
    expect(browser.subscribeCalls).toEqual([]);
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
  });

  it('turns off: unsubscribes this browser and deletes it on the server', async () => {
    const mine = { id: 'a1', endpoint: 'https://push.example/this', label: 'Chrome on Linux', createdAt: '2026-12-02T10:00:00Z' };
    const browser = fakeBrowser({ permission: 'granted', subscribed: mine.endpoint });
    const calls = api({ enabled: true, publicKey: KEY }, [mine, OTHER]);
    renderSection();
    const toggle = await screen.findByRole('checkbox', { name: 'Notify me on this browser' });
    await expect.poll(() => (toggle as HTMLInputElement).checked).toBe(true);
    await userEvent.click(toggle);
    await expect.poll(() => calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual(['/api/v1/push/subscriptions/a1']);
    expect(browser.unsubscribed).toEqual([mine.endpoint]);
    await expect.poll(() => (screen.getByRole('checkbox', { name: 'Notify me on this browser' }) as HTMLInputElement).checked).toBe(false);
  });

  it('removes another browser from the list', async () => {
    fakeBrowser({ permission: 'granted' });
    const calls = api({ enabled: true, publicKey: KEY }, [OTHER]);
    renderSection();
    await userEvent.click(await screen.findByRole('button', { name: 'Remove Firefox on Android' }));
    await expect.poll(() => screen.queryByRole('button', { name: 'Remove Firefox on Android' })).toBeNull();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual(['/api/v1/push/subscriptions/b2']);
  });

  it('says when the service worker is not running in the tab', async () => {
    fakeBrowser({ permission: 'default', worker: false });
    api({ enabled: true, publicKey: KEY });
    renderSection();
    expect(await screen.findByText(/service worker, which is not running/)).toBeInTheDocument();
  });
});

describe('applicationServerKey and browserLabel', () => {
  it('decodes a base64url VAPID key to its 65 bytes', () => {
    const bytes = applicationServerKey(KEY);
    expect(bytes).toHaveLength(65);
    expect(bytes[0]).toBe(4); // an uncompressed P-256 point
  });

  it('names the browser and its system', () => {
    expect(browserLabel('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36')).toBe('Chrome on Linux');
    expect(browserLabel('Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0')).toBe('Firefox on Android');
    expect(browserLabel('Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1')).toBe('Safari on iOS');
    expect(browserLabel('curl/8')).toBe('Browser');
  });
});
