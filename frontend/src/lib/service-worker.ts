/**
 * Registers the service worker (src/sw/sw.js, built to /sw.js) in production builds only: in
 * development Vite serves modules that change on every save, which a worker must not cache.
 */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  // After the page's own loading, so installing the worker (it fetches the whole shell) does
  // not compete with the first paint.
  window.addEventListener('load', () => {
    // `updateViaCache: 'none'`: the browser checks /sw.js past its HTTP cache on every load, so
    // a deployment is found at once (the server sends it with no-cache as well).
    navigator.serviceWorker.register('/sw.js', { scope: '/', updateViaCache: 'none' }).catch(() => {
      // No worker (private mode, an old browser): the app works online as before.
    });
  });
}
