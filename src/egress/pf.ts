/**
 * @module egress/pf
 * The egress policy as a pf anchor (OpenBSD/FreeBSD pf.conf syntax): a table of the sources to
 * block (internal ranges, with the exempt sources as negated entries, which pf tables support) and
 * a table of the internal ranges, and one `block … quick` rule for both address families.
 * `block return` answers TCP with a reset; `block drop` discards. Loaded with
 * `pfctl -a mailgate/egress -f FILE` under an `anchor "mailgate/egress"` line in pf.conf.
 * Syntax: pf.conf(5) "TABLES", "PACKET FILTERING", "ANCHORS" (OpenBSD manual pages).
 * Touches: nothing (pure).
 */
import { uniqueNets } from './addresses.ts';
import { exemptLine, exemptNets, headerLines, type EgressModel } from './model.ts';
import { hashComments } from './text.ts';

function table(name: string, entries: readonly string[]): string {
  return entries.length ? `table <${name}> const { ${entries.join(', ')} }` : `table <${name}> const persist`;
}

/** Render the pf anchor. */
export function renderPf(m: EgressModel): string {
  const internal = uniqueNets(m.internal).map((n) => n.text);
  const blocked = internal.length ? [...internal, ...exemptNets(m).map((n) => `!${n.text}`)] : [];
  const action = m.action === 'reject' ? 'block return' : 'block drop';
  return [
    ...hashComments(headerLines(m, 'pf')),
    ...hashComments(m.exempt.map(exemptLine)),
    '# Syntax: pf.conf(5) (https://man.openbsd.org/pf.conf). In pf.conf, before your pass rules: anchor "mailgate/egress"',
    '# Apply: pfctl -a mailgate/egress -f FILE; check: pfctl -n -a mailgate/egress -f FILE.',
    table('mg_egress_internal', internal),
    table('mg_egress_blocked', blocked),
    `${action}${m.log ? ' log' : ''} quick proto tcp from <mg_egress_blocked> to ! <mg_egress_internal> port { ${m.ports.join(' ')} }`,
    '',
  ].join('\n');
}
