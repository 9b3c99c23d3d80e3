/**
 * @module web/app/pages/login
 * Log in with an API token (`mailgate token add NAME --scope …`, or the first-run token file
 * `console-first-login.token` in the data directory) or a console user's name and password
 * (`mailgate console-user add NAME --scope …`). Either way the API answers with a session cookie
 * (HttpOnly, SameSite=Strict): the secret is not kept by the page.
 * Touches: the network (POST /api/v1/session).
 */
import { useState } from 'preact/hooks';
import { login, type Session } from '../api.ts';
import { TextField } from '../components/field.tsx';
import { ErrorMessage } from '../components/status.tsx';

export function LoginPage({ onLogin }: { onLogin: (s: Session) => void }) {
  const [mode, setMode] = useState<'token' | 'password'>('token');
  const [token, setToken] = useState('');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onLogin(await login(mode === 'token' ? { token: token.trim() } : { user: user.trim(), password }));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="login">
      <h1>mailgate console</h1>
      <form onSubmit={submit} aria-describedby="login-help">
        <fieldset>
          <legend>Log in with</legend>
          <label class="inline">
            <input type="radio" name="mode" value="token" checked={mode === 'token'} onChange={() => setMode('token')} /> an API token
          </label>
          <label class="inline">
            <input type="radio" name="mode" value="password" checked={mode === 'password'} onChange={() => setMode('password')} /> a user name and password
          </label>
        </fieldset>
        {mode === 'token' ? (
          <TextField label="API token" name="token" type="password" value={token} onInput={setToken} required autoComplete="off" hint="Starts with mgt_" />
        ) : (
          <>
            <TextField label="User name" name="user" value={user} onInput={setUser} required autoComplete="username" />
            <TextField label="Password" name="password" type="password" value={password} onInput={setPassword} required autoComplete="current-password" />
          </>
        )}
        <ErrorMessage message={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <div id="login-help" class="muted help">
        <p>
          First run: the token is in the file <code>console-first-login.token</code> in the data directory (the gateway's log names it).
        </p>
        <p>
          Otherwise: <code>mailgate token add NAME --scope read|operate|admin</code> or <code>mailgate console-user add NAME --scope …</code>.
        </p>
      </div>
    </main>
  );
}
