import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '@/lib/api-client';
import { forgetOfflineData, lastUser } from '@/lib/offline-data';
import { queryKeys } from '@/lib/query-keys';
import type { Credentials, User } from '@/lib/types';

/** The signed-in user, or null when there is no session (not an error for this query).
 * Offline, the user last signed in on this device, whose lists the service worker kept: the
 * app then opens read-only (lib/online.ts) instead of failing. */
export async function fetchMe(): Promise<User | null> {
  try {
    return await api<User>('/auth/me', { skipUnauthorizedHandler: true });
  } catch (e) {
    if (e instanceof ApiError && e.isUnauthenticated) return null;
    if (e instanceof ApiError && e.code === 'network') {
      const kept = await lastUser();
      if (kept) return kept;
    }
    throw e;
  }
}

export const meQuery = queryOptions({ queryKey: queryKeys.me, queryFn: fetchMe, staleTime: Infinity, retry: 1 });

export function useMe() {
  return useQuery(meQuery);
}

export function useSignIn() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (c: Credentials) => api<User>('/auth/signin', { method: 'POST', body: c, skipUnauthorizedHandler: true }),
    onSuccess: (user) => qc.setQueryData(queryKeys.me, user),
  });
}

export function useSignUp() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (c: Credentials) => api<User>('/auth/signup', { method: 'POST', body: c, skipUnauthorizedHandler: true }),
    onSuccess: (user) => qc.setQueryData(queryKeys.me, user),
  });
}

export function useSignOut() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api<void>('/auth/signout', { method: 'POST', skipUnauthorizedHandler: true }),
    onSettled: () => {
      void forgetOfflineData();
      qc.clear();
      qc.setQueryData(queryKeys.me, null);
    },
  });
}
