/**
 * @module web/app/router
 * A hash router: `#/trace/ID?from=a@b` → page "trace", rest ["ID"], query from=a@b. Hash routes
 * need no server fallback (the admin listener serves only `/`), survive a reload and work with
 * the browser's back button. Links are plain `<a href={href(...)}>`, so keyboard and
 * middle-click behave as users expect.
 * Touches: window.location.hash.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** The first path segment ('' for the default page). */
  page: string;
  /** The segments after it, URI-decoded. */
  rest: string[];
  query: URLSearchParams;
}

/** Parse a location hash. */
export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const qi = raw.indexOf('?');
  const path = qi >= 0 ? raw.slice(0, qi) : raw;
  const query = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
  const segs = path.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return { page: segs[0] ?? '', rest: segs.slice(1), query };
}

/** The href of a console page: href('trace', ['ID'], { from: 'a@b' }) → "#/trace/ID?from=a%40b". */
export function href(page: string, rest: readonly string[] = [], query: Record<string, string | number | undefined> = {}): string {
  const path = [page, ...rest].map(encodeURIComponent).join('/');
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `#/${path}${qs ? `?${qs}` : ''}`;
}

/** Go to a page (adds a history entry). */
export function navigate(page: string, rest: readonly string[] = [], query: Record<string, string | number | undefined> = {}): void {
  window.location.hash = href(page, rest, query);
}

/** The current route, updated on every hash change. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
