/**
 * @module web/app/components/table
 * A data table: a caption (its accessible name), column headers with `scope="col"`, numeric
 * columns right-aligned, an empty message, and a wrapper that scrolls sideways on a phone
 * instead of squeezing the page (focusable, so the keyboard scrolls it too). Cells render text (or components); never HTML strings.
 * Touches: nothing.
 */
import type { ComponentChildren } from 'preact';

export interface Column<T> {
  /** Header text. */
  label: string;
  /** The cell: a component, or the value shown as text. */
  render: (row: T) => ComponentChildren;
  numeric?: boolean;
}

export interface TableProps<T> {
  caption: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T, index: number) => string | number;
  /** Shown when there are no rows. */
  empty?: string;
  /** Hide the caption visually (still read by screen readers). */
  hideCaption?: boolean;
}

export function DataTable<T>({ caption, columns, rows, rowKey, empty = 'Nothing to show.', hideCaption }: TableProps<T>) {
  return (
    // Focusable region: on a phone the table scrolls sideways, and keyboard users must be able to scroll it too.
    <div class="table-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table>
        <caption class={hideCaption ? 'visually-hidden' : undefined}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" class={c.numeric ? 'num' : undefined} key={c.label}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} class="muted">
                {empty}
              </td>
            </tr>
          ) : (
            rows.map((r, i) => (
              <tr key={rowKey(r, i)}>
                {columns.map((c) => (
                  <td class={c.numeric ? 'num' : undefined} key={c.label}>
                    {c.render(r)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
