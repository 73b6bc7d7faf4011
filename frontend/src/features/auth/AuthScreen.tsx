import { useState, type FormEvent } from 'react';
import { Field } from '@/components/field';
import { ApiError, errorMessage } from '@/lib/api-client';
import { navigate, paths } from '@/lib/router';
import { useSignIn, useSignUp } from './api';
import { validateAuth, type AuthErrors } from './validation';

export function AuthScreen({ mode, sessionEnded }: { mode: 'signin' | 'signup'; sessionEnded?: boolean }) {
  const [values, setValues] = useState({ email: '', password: '', confirm: '' });
  const [errors, setErrors] = useState<AuthErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const signIn = useSignIn();
  const signUp = useSignUp();
  const pending = signIn.isPending || signUp.isPending;
  const isSignUp = mode === 'signup';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found = validateAuth(values, mode);
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length) return;
    const creds = { email: values.email.trim(), password: values.password };
    try {
      await (isSignUp ? signUp : signIn).mutateAsync(creds);
      navigate(paths.app, { replace: true });
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) {
        setErrors({ email: err.fields.email, password: err.fields.password });
      } else {
        setFormError(errorMessage(err));
      }
    }
  };

  const set = (k: keyof typeof values) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [k]: e.target.value }));

  return (
    <main className="auth">
      <div className="auth-card">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">✓</span> Todo
        </div>
        <h1>{isSignUp ? 'Create your account' : 'Sign in'}</h1>
        {sessionEnded && !isSignUp && (
          <p className="notice" role="status">
            Your session ended. Sign in again — what you were typing has been kept.
          </p>
        )}
        <form onSubmit={submit} noValidate>
          <Field label="Email" error={errors.email}>
            {(p) => <input {...p} type="email" autoComplete="email" value={values.email} onChange={set('email')} autoFocus />}
          </Field>
          <Field label="Password" error={errors.password} hint={isSignUp ? 'At least 8 characters.' : undefined}>
            {(p) => (
              <input
                {...p}
                type="password"
                autoComplete={isSignUp ? 'new-password' : 'current-password'}
                value={values.password}
                onChange={set('password')}
              />
            )}
          </Field>
          {isSignUp && (
            <Field label="Confirm password" error={errors.confirm}>
              {(p) => <input {...p} type="password" autoComplete="new-password" value={values.confirm} onChange={set('confirm')} />}
            </Field>
          )}
          {formError && (
            <p className="form-error" role="alert">
              {formError}
            </p>
          )}
          <button type="submit" className="btn btn-primary btn-block" disabled={pending}>
            {pending ? 'Please wait…' : isSignUp ? 'Create account' : 'Sign in'}
          </button>
        </form>
        <p className="auth-switch">
          {isSignUp ? 'Already have an account? ' : 'New here? '}
          <a
            href={isSignUp ? paths.signIn : paths.signUp}
            onClick={(e) => {
              e.preventDefault();
              navigate(isSignUp ? paths.signIn : paths.signUp);
            }}
          >
            {isSignUp ? 'Sign in' : 'Create an account'}
          </a>
        </p>
      </div>
    </main>
  );
}
