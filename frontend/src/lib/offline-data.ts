/**
 * The signed-in user's data kept on this device for the offline shell, and its deletion.
 *
 * The service worker (src/sw/sw.js) keeps the last good answer of the list GETs in the Cache
 * Storage cache `API_CACHE`. The user itself (`/auth/me`) is kept there by the app, not by the
 * worker, which leaves every `/auth` request alone: a sign-in, sign-out or session check must
 * always reach the server. Everything is deleted when the session ends (sign-out, a 401, another
 * user signing in), so one browser never shows one user's data to another.
 */
import type { User } from './types';

/** Also named in src/sw/sw.js: the worker writes the lists there, the app the user. */
export const API_CACHE = 'todo-api-v1';
const USER_KEY = '/offline/me';

function cacheStorage(): CacheStorage | null {
  return typeof caches === 'undefined' ? null : caches;
}

export async function rememberUser(user: User): Promise<void> {
  const storage = cacheStorage();
  if (!storage) return;
  try {
    const cache = await storage.open(API_CACHE);
    await cache.put(USER_KEY, new Response(JSON.stringify(user), { headers: { 'content-type': 'application/json' } }));
  } catch {
    // Private browsing or a full disk: the app works online all the same.
  }
}

/** The user last signed in on this device, if their data is still kept. */
export async function lastUser(): Promise<User | null> {
  const storage = cacheStorage();
  if (!storage) return null;
  try {
    const cache = await storage.open(API_CACHE);
    const res = await cache.match(USER_KEY);
    return res ? ((await res.json()) as User) : null;
  } catch {
    return null;
  }
}

/** Deletes every kept answer. The worker is told too, so that a list request still under way
 * when the session ends is not written back into a fresh cache afterwards. */
export async function forgetOfflineData(): Promise<void> {
  navigator.serviceWorker?.controller?.postMessage({ type: 'forget-api-cache' });
  const storage = cacheStorage();
  if (!storage) return;
  try {
    await storage.delete(API_CACHE);
  } catch {
    // Nothing was kept.
  }
}
