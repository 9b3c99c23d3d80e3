/**
 * @module egress/nftables
 * The egress policy as an nftables ruleset: one `inet` table (IPv4 and IPv6 in one) with interval
 * sets for the internal ranges and the exempt sources, and a rule per family in the forward hook
 * (a router) and the output hook (the host itself). Loading it replaces only this table
 * (`table …; delete table …; table … { … }` is the idempotent idiom), so `nft -f FILE` can be run
 * again after every change. Overlapping entries are merged here (interval sets refuse overlaps).
 * Syntax: nft(8), "SETS", "CHAINS", "REJECT STATEMENT", "LOG STATEMENT" (nftables 1.0).
 * Touches: nothing (pure).
 */
import { mergeRanges, netRange, rangeText, type Family } from './addresses.ts';
import { exemptLine, exemptNets, headerLines, ofFamily, type EgressModel } from './model.ts';
import { hashComments } from './text.ts';

const TABLE = 'mailgate_egress';

function set(name: string, family: Family, nets: EgressModel['internal']): string[] {
  const ranges = mergeRanges(ofFamily(nets, family).map(netRange)).map(rangeText);
  const lines = [`\tset ${name} {`, `\t\ttype ${family === 4 ? 'ipv4_addr' : 'ipv6_addr'}`, '\t\tflags interval'];
  if (ranges.length) lines.push(`\t\telements = { ${ranges.join(', ')} }`);
  return [...lines, '\t}'];
}

function rules(m: EgressModel): string[] {
  const verdict = `${m.log ? 'log prefix "mailgate-egress: " ' : ''}${m.action === 'reject' ? 'reject with tcp reset' : 'drop'}`;
  const ports = `tcp dport { ${m.ports.join(', ')} }`;
  return (['ip', 'ip6'] as const).map((fam) => {
    const n = fam === 'ip' ? '4' : '6';
    return `\t\t${ports} ${fam} saddr @internal${n} ${fam} saddr != @exempt${n} ${fam} daddr != @internal${n} counter ${verdict}`;
  });
}

/** Render the nftables ruleset (`nft -f FILE`; check with `nft -c -f FILE`). */
export function renderNftables(m: EgressModel): string {
  const exempt = exemptNets(m);
  const hook = (name: string): string[] => [`\tchain ${name} {`, `\t\ttype filter hook ${name} priority filter; policy accept;`, ...rules(m), '\t}'];
  return [
    '#!/usr/sbin/nft -f',
    ...hashComments(headerLines(m, 'nftables')),
    ...hashComments(m.exempt.map(exemptLine)),
    '# Syntax: nft(8) (https://www.netfilter.org/projects/nftables/manpage.html). Apply: nft -f FILE; check: nft -c -f FILE.',
    '',
    `table inet ${TABLE}`,
    `delete table inet ${TABLE}`,
    '',
    `table inet ${TABLE} {`,
    ...set('internal4', 4, m.internal),
    ...set('internal6', 6, m.internal),
    ...set('exempt4', 4, exempt),
    ...set('exempt6', 6, exempt),
    '',
    ...hook('forward'),
    '',
    ...hook('output'),
    '}',
    '',
  ].join('\n');
}
