/**
 * Settings → "Notifications on this browser": Web Push for reminders and suggestions, sent by
 * the server even when no tab is open. One switch for this browser, the user's other
 * registered browsers with a Remove button, and why the switch is unavailable when it is
 * (the browser cannot, the site is blocked, the server sends no push).
 */
import { useState } from 'react';
import { errorMessage } from '@/lib/api-client';
import { useOnline } from '@/lib/online';
import {
  PermissionRefused,
  pushSupport,
  usePushConfig,
  usePushSubscriptions,
  useRemovePushSubscription,
  useThisBrowser,
  useTurnOffPush,
  useTurnOnPush,
} from '../api';

interface Props {
  onSaved: (message: string) => void;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function PushSection({ onSaved }: Props) {
  const supported = pushSupport() === 'supported';
  return (
    <div className="card">
      <h2>Notifications on this browser</h2>
      {supported ? <PushSettings onSaved={onSaved} /> : <p className="muted">This browser cannot receive notifications from Todo.</p>}
    </div>
  );
}

function PushSettings({ onSaved }: Props) {
  const config = usePushConfig();
  const configured = !!config.data?.enabled && !!config.data.publicKey;
  const subscriptions = usePushSubscriptions();
  const thisBrowser = useThisBrowser(configured);
  const turnOn = useTurnOnPush();
  const turnOff = useTurnOffPush();
  const remove = useRemovePushSubscription();
  const online = useOnline();
  const [permission, setPermission] = useState<NotificationPermission>(() => Notification.permission);
  const [error, setError] = useState<string | null>(null);

  if (config.isPending) return <p className="muted">Loading…</p>;
  if (config.isError) return <p className="form-error">{errorMessage(config.error)}</p>;
  if (!configured) return <p className="muted">Notifications are not set up on this server.</p>;
  if (thisBrowser.isPending) return <p className="muted">Loading…</p>;
  if (thisBrowser.isError) return <p className="form-error">{errorMessage(thisBrowser.error)}</p>;
  if (!thisBrowser.data.worker) {
    return <p className="muted">Notifications need the app’s service worker, which is not running in this tab. Reload the page and try again.</p>;
  }

  const endpoint = thisBrowser.data.endpoint;
  const items = subscriptions.data ?? [];
  const others = items.filter((i) => i.endpoint !== endpoint);
  const busy = turnOn.isPending || turnOff.isPending;

  const toggle = (on: boolean) => {
    setError(null);
    if (on) {
      turnOn.mutate(config.data.publicKey!, {
        onSuccess: () => {
          setPermission('granted');
          onSaved('Notifications turned on for this browser.');
        },
        onError: (e) => {
          if (e instanceof PermissionRefused) setPermission(e.permission);
          setError(errorMessage(e));
        },
      });
    } else {
      turnOff.mutate(items, { onSuccess: () => onSaved('Notifications turned off for this browser.'), onError: (e) => setError(errorMessage(e)) });
    }
  };

  return (
    <>
      {permission === 'denied' ? (
        <p className="notice">Notifications are blocked for this site in the browser’s settings. Allow them there, then reload the page.</p>
      ) : (
        <label className="switch">
          <input type="checkbox" checked={!!endpoint} disabled={busy || !online} onChange={(e) => toggle(e.target.checked)} /> Notify me on this browser
        </label>
      )}
      <p className="muted">Reminders and suggestions arrive here even when no Todo tab is open.</p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {others.length > 0 && (
        <>
          <h3>Your other browsers</h3>
          <ul className="push-browsers">
            {others.map((item) => (
              <li key={item.id}>
                <span>
                  {item.label} <span className="muted">· since {dateFormat.format(new Date(item.createdAt))}</span>
                </span>
                <button
                  type="button"
                  className="btn btn-small"
                  disabled={remove.isPending || !online}
                  aria-label={`Remove ${item.label}`}
                  onClick={() =>
                    remove.mutate(item.id, { onSuccess: () => onSaved(`${item.label} removed.`), onError: (e) => setError(errorMessage(e)) })
                  }
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
