/**
 * Web Push on this browser: the server's settings and the user's registered browsers (API),
 * and this browser's own subscription (the service worker's PushManager).
 */
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '@/lib/api-client';
import type { PushConfig, PushSubscriptionItem, PushSubscriptionList } from '@/lib/types';

const keys = {
  config: ['push', 'config'] as const,
  subscriptions: ['push', 'subscriptions'] as const,
  thisBrowser: ['push', 'this-browser'] as const,
};

/** A server without the push endpoints (one older than them) sends no push: not an error. */
async function fetchPushConfig(): Promise<PushConfig> {
  try {
    return await api<PushConfig>('/push/config');
  } catch (e) {
    if (e instanceof ApiError && e.isNotFound) return { enabled: false, publicKey: null };
    throw e;
  }
}

export const pushConfigQuery = queryOptions({ queryKey: keys.config, queryFn: fetchPushConfig });
export const pushSubscriptionsQuery = queryOptions({
  queryKey: keys.subscriptions,
  queryFn: () => api<PushSubscriptionList>('/push/subscriptions').then((l) => l.items),
});

export function usePushConfig() {
  return useQuery(pushConfigQuery);
}

export function usePushSubscriptions() {
  return useQuery(pushSubscriptionsQuery);
}

export function pushSupport(): 'supported' | 'unsupported' {
  return typeof window !== 'undefined' && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window
    ? 'supported'
    : 'unsupported';
}

/** The app's service worker, if it runs (it does not in development, see lib/service-worker.ts). */
async function registration(): Promise<ServiceWorkerRegistration | undefined> {
  return navigator.serviceWorker.getRegistration('/');
}

/** This browser: whether the app's worker runs, and its subscription's endpoint if any. */
export type ThisBrowser = { worker: false } | { worker: true; endpoint: string | null };

async function thisBrowser(): Promise<ThisBrowser> {
  const reg = await registration();
  if (!reg) return { worker: false };
  const sub = await reg.pushManager.getSubscription();
  return { worker: true, endpoint: sub?.endpoint ?? null };
}

export function useThisBrowser(enabled: boolean) {
  return useQuery({ queryKey: keys.thisBrowser, queryFn: thisBrowser, enabled, staleTime: Infinity });
}

/** The VAPID key as PushManager wants it (base64url → bytes). */
export function applicationServerKey(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = (base64url + '='.repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** A name for this browser in the list of registered ones: "Chrome on Linux". */
export function browserLabel(userAgent: string = navigator.userAgent): string {
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : 'Browser';
  const os = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Mac OS X/.test(userAgent)
        ? 'macOS'
        : /Windows/.test(userAgent)
          ? 'Windows'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : null;
  return os ? `${browser} on ${os}` : browser;
}

export class PermissionRefused extends Error {
  constructor(readonly permission: NotificationPermission) {
    super(permission === 'denied' ? 'Notifications are blocked for this site.' : 'Notifications were not allowed.');
  }
}

/** Asks for permission, subscribes this browser with the server's key and registers it. A
 * subscription the server did not take is undone, so the browser holds none the server lacks. */
async function subscribe(publicKey: string): Promise<PushSubscriptionItem> {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new PermissionRefused(permission);
  const reg = await registration();
  if (!reg) throw new Error('The app’s service worker is not running; reload the page and try again.');
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: applicationServerKey(publicKey) });
  try {
    return await api<PushSubscriptionItem>('/push/subscriptions', { method: 'POST', body: { ...sub.toJSON(), label: browserLabel() } });
  } catch (e) {
    await sub.unsubscribe().catch(() => false);
    throw e;
  }
}

/** Stops notifications on this browser first (that works offline too), then removes it on the
 * server. */
export async function unsubscribeThisBrowser(items?: PushSubscriptionItem[]): Promise<void> {
  if (pushSupport() === 'unsupported') return;
  const reg = await registration();
  const sub = await reg?.pushManager.getSubscription();
  if (!sub) return;
  const list = items ?? (await api<PushSubscriptionList>('/push/subscriptions').then((l) => l.items, () => []));
  const mine = list.find((i) => i.endpoint === sub.endpoint);
  await sub.unsubscribe();
  if (mine) await api<void>(`/push/subscriptions/${mine.id}`, { method: 'DELETE' });
}

export function useTurnOnPush() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: subscribe,
    onSuccess: (item) => {
      const subscribed: ThisBrowser = { worker: true, endpoint: item.endpoint };
      qc.setQueryData(keys.thisBrowser, subscribed);
      qc.setQueryData<PushSubscriptionItem[]>(keys.subscriptions, (l) => [...(l ?? []).filter((i) => i.id !== item.id), item]);
    },
  });
}

export function useTurnOffPush() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (items: PushSubscriptionItem[]) => unsubscribeThisBrowser(items),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: keys.thisBrowser });
      void qc.invalidateQueries({ queryKey: keys.subscriptions });
    },
  });
}

/** Another browser of the user's: it gets no more notifications (its own subscription lapses
 * when the push service next refuses it). */
export function useRemovePushSubscription() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`/push/subscriptions/${id}`, { method: 'DELETE' }),
    onSuccess: (_, id) => qc.setQueryData<PushSubscriptionItem[]>(keys.subscriptions, (l) => (l ?? []).filter((i) => i.id !== id)),
  });
}
