/**
 * @module web/app/app
 * The console's root: finds out whether a session exists (GET /api/v1/session), shows the login
 * page or the shell with the page the hash route names, and goes back to login when any call
 * answers 401 (session expired, token removed) or the user logs out.
 * Touches: the network through api.ts.
 */
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, logout, onUnauthorized, type Session } from './api.ts';
import { ErrorMessage, Loading } from './components/status.tsx';
import { Layout } from './layout.tsx';
import { LoginPage } from './pages/login.tsx';
import { pageFor, type PageDef, type PageProps } from './pages.ts';
import { useRoute } from './router.ts';

function usePageComponent(def: PageDef | undefined): { component?: ComponentType<PageProps>; error?: string } {
  const [state, setState] = useState<{ def?: PageDef; component?: ComponentType<PageProps>; error?: string }>({});
  useEffect(() => {
    if (!def) return;
    let live = true;
    def
      .load()
      .then((m) => live && setState({ def, component: m.default }))
      .catch((e: unknown) => live && setState({ def, error: e instanceof Error ? e.message : String(e) }));
    return () => {
      live = false;
    };
  }, [def]);
  return state.def === def ? state : {};
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const route = useRoute();
  const def = pageFor(route.page);
  const page = usePageComponent(session ? def : undefined);

  useEffect(() => {
    currentSession()
      .then((s) => setSession(s ?? null))
      .catch((e: unknown) => {
        setError(e instanceof Error ? e.message : String(e));
        setSession(null);
      });
    return onUnauthorized(() => setSession(null));
  }, []);

  if (session === undefined) return <Loading what="Connecting to mailgate" />;
  if (session === null)
    return (
      <>
        <ErrorMessage message={error} />
        <LoginPage onLogin={(s) => (setError(undefined), setSession(s))} />
      </>
    );
  const doLogout = (): void => {
    void logout().finally(() => setSession(null));
  };
  const Page = page.component;
  return (
    <Layout session={session} current={def} onLogout={doLogout}>
      {!def ? (
        <section>
          <h1>Not found</h1>
          <p>There is no page “{route.page}”.</p>
        </section>
      ) : page.error ? (
        <ErrorMessage message={page.error} />
      ) : Page ? (
        <Page route={route} session={session} />
      ) : (
        <Loading />
      )}
    </Layout>
  );
}
