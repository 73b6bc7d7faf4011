/**
 * Settings for the calendar feed: a secret address calendar apps (Google Calendar, Apple
 * Calendar, Outlook) subscribe to, showing the open tasks with a due date. It stays visible
 * here, like Google Calendar's secret address; resetting gives a new one and turning the feed
 * off retires it, both at once, so each asks first.
 */
import { useState } from 'react';
import { Dialog } from '@/components/dialog';
import { Field } from '@/components/field';
import { errorMessage } from '@/lib/api-client';
import { subscribeUrls, useCalendarFeed, useResetCalendarFeed, useTurnOffCalendarFeed } from '../api';

interface Props {
  onSaved: (message: string) => void;
}

type Confirming = 'reset' | 'off' | null;

export function CalendarFeedSection({ onSaved }: Props) {
  const feed = useCalendarFeed();
  const reset = useResetCalendarFeed();
  const turnOff = useTurnOffCalendarFeed();
  const [confirming, setConfirming] = useState<Confirming>(null);
  const [error, setError] = useState<string | null>(null);

  const onError = (err: unknown) => setError(errorMessage(err));
  const turnOn = () => {
    setError(null);
    reset.mutate(undefined, { onSuccess: () => onSaved('Calendar feed turned on.'), onError });
  };
  const confirm = () => {
    setError(null);
    const done = () => setConfirming(null);
    if (confirming === 'reset') {
      reset.mutate(undefined, { onSuccess: () => onSaved('Calendar link reset. Subscribe to the new one.'), onError, onSettled: done });
    } else {
      turnOff.mutate(undefined, { onSuccess: () => onSaved('Calendar feed turned off.'), onError, onSettled: done });
    }
  };
  const copy = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      onSaved('Calendar link copied.');
    } catch {
      setError('Could not copy; select the link and copy it yourself.');
    }
  };

  return (
    <div className="card">
      <h2>Calendar feed</h2>
      {feed.isPending ? (
        <p className="muted">Loading…</p>
      ) : feed.isError ? (
        <p className="form-error">{errorMessage(feed.error)}</p>
      ) : feed.data.enabled && feed.data.url ? (
        <Subscribed
          url={feed.data.url}
          busy={reset.isPending || turnOff.isPending}
          onCopy={(url) => void copy(url)}
          onReset={() => setConfirming('reset')}
          onTurnOff={() => setConfirming('off')}
        />
      ) : (
        <>
          <p>See your tasks with a due date in Google Calendar, Apple Calendar or Outlook, kept up to date as they change.</p>
          <button type="button" className="btn" disabled={reset.isPending} onClick={turnOn}>
            {reset.isPending ? 'Turning on…' : 'Turn on calendar feed'}
          </button>
        </>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <Dialog open={confirming !== null} title={confirming === 'reset' ? 'Reset the calendar link?' : 'Turn off the calendar feed?'} onClose={() => setConfirming(null)}>
        <p>The current link stops working at once: calendars subscribed to it stop showing your tasks{confirming === 'reset' ? ' until you subscribe to the new link' : ''}.</p>
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={() => setConfirming(null)}>
            Cancel
          </button>
          <button type="button" className="btn btn-danger" disabled={reset.isPending || turnOff.isPending} onClick={confirm}>
            {confirming === 'reset' ? 'Reset link' : 'Turn off'}
          </button>
        </div>
      </Dialog>
    </div>
  );
}

interface SubscribedProps {
  url: string;
  busy: boolean;
  onCopy: (url: string) => void;
  onReset: () => void;
  onTurnOff: () => void;
}

function Subscribed({ url, busy, onCopy, onReset, onTurnOff }: SubscribedProps) {
  const { https, webcal } = subscribeUrls(url);
  return (
    <>
      <Field label="Subscribe URL" hint="Add it to your calendar app as a subscription (“From URL”). Anyone with this link can see your tasks: keep it private.">
        {(p) => <input {...p} type="url" readOnly value={https} onFocus={(e) => e.currentTarget.select()} />}
      </Field>
      <p>
        <button type="button" className="btn" onClick={() => onCopy(https)}>
          Copy link
        </button>{' '}
        <a className="btn" href={webcal}>
          Open in calendar app
        </a>
      </p>
      <p>
        <button type="button" className="btn" disabled={busy} onClick={onReset}>
          Reset link…
        </button>{' '}
        <button type="button" className="btn btn-danger" disabled={busy} onClick={onTurnOff}>
          Turn off…
        </button>
      </p>
    </>
  );
}
