/**
 * @module egress/text
 * Making configuration strings safe for each firewall syntax. Comments and descriptions come from
 * the configuration; the schema already refuses control characters, and these functions make the
 * renderers safe on their own: a line break (CR, LF, NEL, U+2028/9, any C0/C1 control) becomes a
 * space, so a comment can never start a new rule; a backslash becomes "/" (pf joins a line ending
 * in "\" with the next, comments included); quotes are escaped or replaced per syntax.
 * Touches: nothing (pure).
 */

/** One line of free text: no control characters, no backslash, single spaces, trimmed. */
export function oneLine(s: string): string {
  return s
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/\\/g, '/')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** `#` comment lines (nftables, iptables-restore, pf, FortiGate scripts, PowerShell, PAN-OS files). */
export function hashComments(lines: readonly string[]): string[] {
  return lines.map((l) => `# ${oneLine(l)}`.trimEnd());
}

/** A name usable as an object name everywhere (the schema already restricts names; belt and braces). */
export function ident(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
}

/** Cut to `max` characters (ASA remarks take 100, descriptions 200). */
export function cut(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 3) + '...';
}

/** A FortiOS CLI double-quoted string (`\"` escapes a quote inside). */
export function fortiQuote(s: string): string {
  return `"${cut(oneLine(s), 255).replace(/"/g, '\\"')}"`;
}

/** A PAN-OS CLI double-quoted value (no escape exists for `"` there: it becomes `'`). */
export function panQuote(s: string): string {
  return `"${cut(oneLine(s), 1000).replace(/"/g, "'")}"`;
}

/** A PowerShell single-quoted string; PowerShell also takes the typographic quotes as quotes. */
export function psQuote(s: string): string {
  return `'${oneLine(s).replace(/['\u2018\u2019\u201a\u201b]/g, "''")}'`;
}
