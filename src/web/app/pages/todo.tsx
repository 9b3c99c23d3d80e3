/**
 * @module web/app/pages/todo
 * The placeholder of a page listed in the registry but not built yet.
 * Touches: nothing.
 */
import type { PageProps } from '../pages.ts';
import { PAGES } from '../pages.ts';

export default function Todo({ route }: PageProps) {
  const title = PAGES.find((p) => p.path === route.page)?.title ?? route.page;
  return (
    <section>
      <h1>{title}</h1>
      <p class="muted">
        This page is not built yet. The same data is in the CLI (<code>mailgate --help</code>) and the admin API (<code>/openapi.json</code>).
      </p>
    </section>
  );
}
