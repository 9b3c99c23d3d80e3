/**
 * @module web/app/pages
 * The page registry: one line per page, in navigation order. `path` is the hash route's first
 * segment (`#/trace/…`), `title` the nav label and the document title, `load` imports the page
 * module (its default export is the page component; esbuild inlines these imports into the one
 * bundle).
 * Touches: nothing.
 */
import type { ComponentType } from 'preact';
import type { Session } from './api.ts';
import type { Route } from './router.ts';

export interface PageProps {
  route: Route;
  session: Session;
}

export interface PageDef {
  path: string;
  title: string;
  load: () => Promise<{ default: ComponentType<PageProps> }>;
}

export const PAGES: readonly PageDef[] = [
  { path: 'dashboard', title: 'Dashboard', load: () => import('./pages/dashboard.tsx') },
  { path: 'trace', title: 'Trace', load: () => import('./pages/trace.tsx') },
  { path: 'direct-send', title: 'Direct Send', load: () => import('./pages/readiness.tsx') },
  { path: 'quarantine', title: 'Quarantine', load: () => import('./pages/quarantine.tsx') },
  { path: 'rules', title: 'Rules', load: () => import('./pages/rules.tsx') },
  { path: 'configuration', title: 'Configuration', load: () => import('./pages/config.tsx') },
  { path: 'alerts', title: 'Alerts', load: () => import('./pages/alerts.tsx') },
  { path: 'audit', title: 'Audit', load: () => import('./pages/audit.tsx') },
];

/** The page a route shows: the default (first) page for `#/`, undefined when unknown. */
export function pageFor(path: string): PageDef | undefined {
  return path === '' ? PAGES[0] : PAGES.find((p) => p.path === path);
}

const ORDER = ['read', 'operate', 'admin'] as const;

/** True when the session's scope includes `needed` (admin ⊃ operate ⊃ read), to hide buttons it cannot use. */
export function can(session: Session, needed: 'read' | 'operate' | 'admin'): boolean {
  return ORDER.indexOf(session.scope) >= ORDER.indexOf(needed);
}
