import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Field } from '@/components/field';
import { AccountSection } from '@/features/account/components/AccountSection';
import { AssistantFeedbackSection } from '@/features/assistant/components/AssistantFeedbackSection';
import { CalendarFeedSection } from '@/features/calendar/components/CalendarFeedSection';
import { ImportSection } from '@/features/import/components/ImportSection';
import { PushSection } from '@/features/push/components/PushSection';
import { ApiError, errorMessage } from '@/lib/api-client';
import { browserTimeZone, formatOffset } from '@/lib/dates';
import type { ThemeChoice } from '@/lib/theme';
import { usePreferences, useUpdatePreferences } from '../api';
import { formFromPreferences, preferencesPatch, validatePreferences, type PreferencesErrors, type PreferencesForm } from '../form';
import { WorkingHoursFields } from './WorkingHoursFields';

interface Props {
  theme: ThemeChoice;
  onTheme: (t: ThemeChoice) => void;
  onSaved: (message: string) => void;
  onBack: () => void;
}

const OFFSETS = [0, 5, 10, 15, 30, 60, 120, 1440, 2880, 10080];

function timeZones(current: string): string[] {
  let zones: string[] = [];
  try {
    zones = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  } catch {
    zones = [];
  }
  const set = new Set([...zones, 'UTC', current, browserTimeZone()]);
  return [...set].sort();
}

/** The preferences with a control on this page, where their server-side errors show. */
const FIELDS_SHOWN = new Set(['reminderOffsetMinutes', 'timeZone', 'workDays', 'workStart', 'workEnd', 'dailyPlanSize']);

type NotifState = NotificationPermission | 'unsupported';

export function SettingsView({ theme, onTheme, onSaved, onBack }: Props) {
  const q = usePreferences();
  const save = useUpdatePreferences();
  const [values, setValues] = useState<PreferencesForm | null>(null);
  const [errors, setErrors] = useState<PreferencesErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [notif, setNotif] = useState<NotifState>(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);

  useEffect(() => {
    if (q.data) setValues(formFromPreferences(q.data));
  }, [q.data]);

  const zones = useMemo(() => timeZones(values?.timeZone ?? 'UTC'), [values?.timeZone]);

  if (q.isPending || !values) return <p className="muted">Loading settings…</p>;
  if (q.isError) return <p className="form-error">{errorMessage(q.error)}</p>;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found = validatePreferences(values);
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length) return;
    const patch = preferencesPatch(q.data, values);
    if (!Object.keys(patch).length) {
      onSaved('Nothing to save; settings are unchanged.');
      return;
    }
    try {
      await save.mutateAsync(patch);
      onSaved('Settings saved.');
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) {
        setErrors(err.fields);
        // A field without a control here would otherwise fail silently.
        if (Object.keys(err.fields).some((f) => !FIELDS_SHOWN.has(f))) setFormError(err.message);
      } else {
        setFormError(errorMessage(err));
      }
    }
  };

  return (
    <section className="settings" aria-labelledby="settings-title">
      <div className="settings-head">
        <button type="button" className="btn btn-ghost" onClick={onBack}>
          ← Back to tasks
        </button>
        <h1 id="settings-title">Settings</h1>
      </div>
      <form onSubmit={submit} className="card" noValidate>
        <h2>Assistants</h2>
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            checked={values.autonomousAgentsEnabled}
            onChange={(e) => setValues({ ...values, autonomousAgentsEnabled: e.target.checked })}
          />
          <span>Let the assistants watch my tasks and suggest changes</span>
        </label>
        <p className="field-hint">They flag overdue tasks, raise the priority of tasks due soon, warn when too much is due at once, and send reminders.</p>
        <h2>Reminders and time</h2>
        <Field label="Default reminder" error={errors.reminderOffsetMinutes} hint="Used for new tasks with a due time and no reminder of their own.">
          {(p) => (
            <select {...p} value={values.reminderOffsetMinutes} onChange={(e) => setValues({ ...values, reminderOffsetMinutes: Number(e.target.value) })}>
              {[...new Set([...OFFSETS, values.reminderOffsetMinutes])].sort((a, b) => a - b).map((m) => (
                <option key={m} value={m}>
                  {formatOffset(m)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Time zone" error={errors.timeZone} hint="Due dates, “today” and “overdue” follow this zone.">
          {(p) => (
            <select {...p} value={values.timeZone} onChange={(e) => setValues({ ...values, timeZone: e.target.value })}>
              {zones.map((z) => (
                <option key={z} value={z}>
                  {z.replace(/_/g, ' ')}
                </option>
              ))}
            </select>
          )}
        </Field>
        {values.timeZone !== browserTimeZone() && (
          <p className="field-hint">
            This device is set to {browserTimeZone()}.{' '}
            <button type="button" className="link-btn" onClick={() => setValues({ ...values, timeZone: browserTimeZone() })}>
              Use it
            </button>
          </p>
        )}
        <WorkingHoursFields values={values} errors={errors} onChange={(change) => setValues({ ...values, ...change })} />
        {formError && (
          <p className="form-error" role="alert">
            {formError}
          </p>
        )}
        <div className="dialog-actions">
          <button type="submit" className="btn btn-primary" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : 'Save settings'}
          </button>
        </div>
      </form>
      <div className="card">
        <h2>On this device</h2>
        <fieldset className="radio-row">
          <legend>Theme</legend>
          {(['system', 'light', 'dark'] as ThemeChoice[]).map((t) => (
            <label key={t}>
              <input type="radio" name="theme" value={t} checked={theme === t} onChange={() => onTheme(t)} /> {t === 'system' ? 'Match system' : t === 'light' ? 'Light' : 'Dark'}
            </label>
          ))}
        </fieldset>
        <p>
          Browser notifications for reminders:{' '}
          <strong>{notif === 'granted' ? 'on' : notif === 'denied' ? 'blocked in the browser settings' : notif === 'unsupported' ? 'not supported here' : 'off'}</strong>
        </p>
        {notif === 'default' && (
          <button type="button" className="btn" onClick={() => void Notification.requestPermission().then(setNotif)}>
            Allow notifications
          </button>
        )}
      </div>
      <AssistantFeedbackSection timeZone={q.data.timeZone} onSaved={onSaved} />
      <PushSection onSaved={onSaved} />
      <CalendarFeedSection onSaved={onSaved} />
      <ImportSection timeZone={q.data.timeZone} onSaved={onSaved} />
      <AccountSection onSaved={onSaved} />
    </section>
  );
}
