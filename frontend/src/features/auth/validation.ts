export interface AuthValues {
  email: string;
  password: string;
  confirm: string;
}

export type AuthErrors = Partial<Record<keyof AuthValues, string>>;

/** The same rules the API applies (email shape, 8–128 characters), checked before sending. */
export function validateAuth(v: AuthValues, mode: 'signin' | 'signup'): AuthErrors {
  const e: AuthErrors = {};
  const email = v.email.trim();
  if (!email) e.email = 'Enter your email address.';
  else if (!/^[^\s@]+@[^\s@]+$/.test(email)) e.email = 'That does not look like an email address.';
  if (!v.password) e.password = 'Enter your password.';
  else if (mode === 'signup') {
    const n = [...v.password].length;
    if (n < 8) e.password = 'Use at least 8 characters.';
    else if (n > 128) e.password = 'Use at most 128 characters.';
    if (!e.password && v.confirm !== v.password) e.confirm = 'The passwords do not match.';
  }
  return e;
}
