/** Says, while the server cannot be reached, that the screen shows what was last loaded and
 * takes no changes (the write controls are disabled meanwhile; lib/online.ts). */
import { useOnline } from '@/lib/online';

export function OfflineBanner() {
  const online = useOnline();
  // The status region stays in the page so that screen readers announce the change of its text.
  return (
    <div role="status" className={online ? 'offline-banner-idle' : 'offline-banner'}>
      {!online && 'You’re offline — showing your lists as last loaded; changes are disabled.'}
    </div>
  );
}
