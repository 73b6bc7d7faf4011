import { QueryClient, QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ToastProvider } from '@/components/toasts';
import { AuthScreen } from '@/features/auth/AuthScreen';
import { useMe } from '@/features/auth/api';
import { ApiError, errorMessage, onUnauthorized } from '@/lib/api-client';
import { forgetOfflineData, rememberUser } from '@/lib/offline-data';
import { onBackOnline } from '@/lib/online';
import { queryKeys } from '@/lib/query-keys';
import { navigate, paths, usePath } from '@/lib/router';
import { applyTheme, storedTheme, type ThemeChoice } from '@/lib/theme';
import { AppShell } from './AppShell';

export function createQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        refetchOnWindowFocus: true,
        // A 4xx will not get better by asking again; network trouble might.
        retry: (count, e) => count < 2 && !(e instanceof ApiError && e.status >= 400 && e.status < 500),
        // Try once even when the browser says it is offline: the service worker may answer
        // from its cache (the offline shell). Retries still wait for the network.
        networkMode: 'offlineFirst',
      },
      mutations: { retry: false },
    },
  });
}

function Root() {
  const qc = useQueryClient();
  const me = useMe();
  const path = usePath();
  const [theme, setThemeState] = useState<ThemeChoice>(storedTheme);
  const [sessionEnded, setSessionEnded] = useState(false);

  const setTheme = (t: ThemeChoice) => {
    applyTheme(t);
    setThemeState(t);
  };

  useEffect(
    () =>
      onUnauthorized(() => {
        // Drafts stay in sessionStorage; the forms read them back after sign-in.
        setSessionEnded(true);
        qc.setQueryData(queryKeys.me, null);
        navigate(paths.signIn, { replace: true });
      }),
    [qc],
  );

  const user = me.data;
  // The offline shell keeps only the signed-in user's data, and none once nobody is: the
  // session ended (sign-out, 401, account deleted) or another user signed in.
  useEffect(() => {
    if (me.isPending) return;
    if (user) void rememberUser(user);
    else void forgetOfflineData();
  }, [user, me.isPending]);

  // Whatever was shown while offline is refetched as soon as the server answers again.
  useEffect(() => onBackOnline(() => void qc.invalidateQueries()), [qc]);

  useEffect(() => {
    if (me.isPending) return;
    if (!user && path !== paths.signIn && path !== paths.signUp) navigate(paths.signIn, { replace: true });
    if (user && (path === paths.signIn || path === paths.signUp)) {
      setSessionEnded(false);
      navigate(paths.app, { replace: true });
    }
  }, [user, me.isPending, path]);

  if (me.isPending) {
    return (
      <div className="boot" aria-busy="true">
        <span className="sr-only">Loading…</span>
      </div>
    );
  }
  if (me.isError) {
    return (
      <main className="auth">
        <div className="auth-card" role="alert">
          <h1>Cannot load Todo</h1>
          <p>{errorMessage(me.error)}</p>
          <button type="button" className="btn btn-primary" onClick={() => void me.refetch()}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  if (!user) return <AuthScreen mode={path === paths.signUp ? 'signup' : 'signin'} sessionEnded={sessionEnded} />;
  return <AppShell user={user} path={path} theme={theme} setTheme={setTheme} />;
}

export function App({ client }: { client?: QueryClient }) {
  const [qc] = useState(() => client ?? createQueryClient());
  return (
    <QueryClientProvider client={qc}>
      <ToastProvider>
        <Root />
      </ToastProvider>
    </QueryClientProvider>
  );
}
