/**
 * Settings for the account itself: display name, password, signing out everywhere, the data
 * export and deleting the account (which asks for the password first).
 */
import { useEffect, useState, type FormEvent } from 'react';
import { Dialog } from '@/components/dialog';
import { Field } from '@/components/field';
import { useMe } from '@/features/auth/api';
import { ApiError, errorMessage } from '@/lib/api-client';
import { navigate, paths } from '@/lib/router';
import { EXPORT_URL, useChangePassword, useDeleteAccount, useSignOutEverywhere, useUpdateAccount } from '../api';

interface Props {
  onSaved: (message: string) => void;
}

function fieldErrors(err: unknown): Record<string, string> | null {
  return err instanceof ApiError && Object.keys(err.fields).length ? err.fields : null;
}

function Profile({ onSaved }: Props) {
  const me = useMe();
  const update = useUpdateAccount();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  useEffect(() => setName(me.data?.displayName ?? ''), [me.data?.displayName]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    update.mutate(name.trim() || null, {
      onSuccess: () => onSaved('Name saved.'),
      onError: (err) => setError(fieldErrors(err)?.displayName ?? errorMessage(err)),
    });
  };
  return (
    <form className="card" onSubmit={submit} noValidate>
      <h2>Account</h2>
      <p className="muted">Signed in as {me.data?.email}</p>
      <Field label="Display name" error={error} hint="Optional; how the app greets you.">
        {(p) => <input {...p} value={name} maxLength={100} onChange={(e) => setName(e.target.value)} autoComplete="name" />}
      </Field>
      <div className="dialog-actions">
        <button type="submit" className="btn" disabled={update.isPending}>
          Save name
        </button>
      </div>
    </form>
  );
}

function PasswordChange({ onSaved }: Props) {
  const change = useChangePassword();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!current) found.currentPassword = 'Enter your current password.';
    if ([...next].length < 8) found.newPassword = 'Use at least 8 characters.';
    else if (next !== confirm) found.confirm = 'The passwords do not match.';
    setErrors(found);
    if (Object.keys(found).length) return;
    change.mutate(
      { currentPassword: current, newPassword: next },
      {
        onSuccess: () => {
          setCurrent('');
          setNext('');
          setConfirm('');
          onSaved('Password changed. Your other devices were signed out.');
        },
        onError: (err) => setErrors(fieldErrors(err) ?? { form: errorMessage(err) }),
      },
    );
  };
  return (
    <form className="card" onSubmit={submit} noValidate>
      <h2>Password</h2>
      <Field label="Current password" error={errors.currentPassword}>
        {(p) => <input {...p} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />}
      </Field>
      <Field label="New password" error={errors.newPassword} hint="At least 8 characters.">
        {(p) => <input {...p} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />}
      </Field>
      <Field label="Confirm new password" error={errors.confirm}>
        {(p) => <input {...p} type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />}
      </Field>
      {errors.form && (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="dialog-actions">
        <button type="submit" className="btn" disabled={change.isPending}>
          {change.isPending ? 'Changing…' : 'Change password'}
        </button>
      </div>
    </form>
  );
}

function DeleteAccount() {
  const remove = useDeleteAccount();
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const confirm = (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    remove.mutate(password, {
      onSuccess: () => navigate(paths.signIn, { replace: true }),
      onError: (err) => setError(fieldErrors(err)?.password ?? errorMessage(err)),
    });
  };
  return (
    <>
      <button type="button" className="btn btn-danger" onClick={() => setOpen(true)}>
        Delete my account…
      </button>
      <Dialog open={open} title="Delete your account?" onClose={() => setOpen(false)}>
        <form onSubmit={confirm} noValidate>
          <p>Your tasks, projects, suggestions and conversations are deleted for good. Download your data first if you want to keep it.</p>
          <Field label="Password" error={error} hint="To confirm it is you.">
            {(p) => <input {...p} type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />}
          </Field>
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={() => setOpen(false)}>
              Keep my account
            </button>
            <button type="submit" className="btn btn-danger" disabled={!password || remove.isPending}>
              {remove.isPending ? 'Deleting…' : 'Delete my account'}
            </button>
          </div>
        </form>
      </Dialog>
    </>
  );
}

export function AccountSection({ onSaved }: Props) {
  const everywhere = useSignOutEverywhere();
  return (
    <>
      <Profile onSaved={onSaved} />
      <PasswordChange onSaved={onSaved} />
      <div className="card">
        <h2>Sessions and data</h2>
        <p>
          <button
            type="button"
            className="btn"
            disabled={everywhere.isPending}
            onClick={() => everywhere.mutate(undefined, { onSuccess: () => navigate(paths.signIn, { replace: true }) })}
          >
            Sign out everywhere
          </button>{' '}
          <span className="muted">Ends every session, this one included.</span>
        </p>
        <p>
          <a className="btn" href={EXPORT_URL} download>
            Download my data
          </a>{' '}
          <span className="muted">Everything your account holds, as JSON.</span>
        </p>
        <DeleteAccount />
      </div>
    </>
  );
}
