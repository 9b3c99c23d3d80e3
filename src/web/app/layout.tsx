/**
 * @module web/app/layout
 * The shell around every page: a skip link, a banner with who is logged in and Log out, the
 * main navigation (the page registry, `aria-current` on the open page) and the `<main>`
 * landmark. On a route change the document title follows and focus moves to <main>, so keyboard
 * and screen-reader users land on the new page rather than on the link they left. On a phone
 * the navigation wraps above the page (styles.css).
 * Touches: document.title, focus.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Session } from './api.ts';
import { PAGES, type PageDef } from './pages.ts';
import { href } from './router.ts';

export interface LayoutProps {
  session: Session;
  current: PageDef | undefined;
  onLogout: () => void;
  children: ComponentChildren;
}

export function Layout({ session, current, onLogout, children }: LayoutProps) {
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    document.title = current ? `${current.title} · mailgate` : 'mailgate';
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [current]);
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header class="banner">
        <a class="brand" href={href('dashboard')}>
          mailgate
        </a>
        <div class="who">
          <span>
            {session.user} <span class="badge">{session.scope}</span>
          </span>
          <button type="button" onClick={onLogout}>
            Log out
          </button>
        </div>
      </header>
      <nav aria-label="Main" class="nav">
        <ul>
          {PAGES.map((p) => (
            <li key={p.path}>
              <a href={href(p.path)} aria-current={p === current ? 'page' : undefined}>
                {p.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
