/**
 * @module web/app/components/diff
 * A unified diff (as config/changes lineDiff writes it) shown line by line: added and removed
 * lines marked by colour and by their +/- sign (colour is never the only cue), as text.
 * Touches: nothing.
 */
import './wc.css';

export function DiffView({ diff, label }: { diff: string; label: string }) {
  if (!diff) return <p class="muted">No difference.</p>;
  const lines = diff.replace(/\n$/, '').split('\n');
  return (
    <pre class="diff" aria-label={label} tabIndex={0}>
      {lines.map((l, i) => (
        <span key={i} class={l.startsWith('+++') || l.startsWith('---') ? 'diff-head' : l.startsWith('+') ? 'diff-add' : l.startsWith('-') ? 'diff-del' : l.startsWith('@@') ? 'diff-hunk' : undefined}>
          {l}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}
