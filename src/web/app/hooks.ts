/**
 * @module web/app/hooks
 * `useApi(path)`: GET a path of the admin API and keep { data, error, loading, reload }; a
 * changed path refetches, and an answer that arrives after the path changed is dropped.
 * Touches: the network through api.ts.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './api.ts';

export interface ApiState<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  /** Fetch again (after an action changed what the page shows). */
  reload: () => void;
  /** Fetch again by itself (a timer): not counted as the admin's activity by the session's idle timeout. */
  refresh: () => void;
}

/** GET `path` (nothing while it is null). */
export function useApi<T>(path: string | null): ApiState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const current = useRef(0);
  const background = useRef(false);
  useEffect(() => {
    if (path === null) return;
    const n = ++current.current;
    setLoading(true);
    const quiet = background.current;
    background.current = false;
    api
      .get<T>(path, { background: quiet })
      .then((d) => {
        if (n !== current.current) return;
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (n !== current.current) return;
        setError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
      })
      .finally(() => {
        if (n === current.current) setLoading(false);
      });
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const refresh = useCallback(() => {
    background.current = true;
    setTick((t) => t + 1);
  }, []);
  return { data, error, loading, reload, refresh };
}
