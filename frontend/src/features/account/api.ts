/** The account's own endpoints: display name, password, sessions, deletion. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { ChangePasswordInput, User } from '@/lib/types';

/** Where the browser downloads the export from (a plain link: the response is an attachment). */
export const EXPORT_URL = '/api/v1/account/export';

export function useUpdateAccount() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (displayName: string | null) => api<User>('/account', { method: 'PATCH', body: { displayName } }),
    onSuccess: (user) => qc.setQueryData(queryKeys.me, user),
  });
}

export function useChangePassword() {
  return useMutation({
    mutationFn: (input: ChangePasswordInput) => api<void>('/account/password', { method: 'POST', body: input }),
  });
}

/** Ends the session with everything it cached, as signing out does. */
function forget(qc: ReturnType<typeof useQueryClient>) {
  qc.clear();
  qc.setQueryData(queryKeys.me, null);
}

export function useSignOutEverywhere() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api<void>('/account/signout-everywhere', { method: 'POST' }),
    onSuccess: () => forget(qc),
  });
}

export function useDeleteAccount() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (password: string) => api<void>('/account', { method: 'DELETE', body: { password } }),
    onSuccess: () => forget(qc),
  });
}
