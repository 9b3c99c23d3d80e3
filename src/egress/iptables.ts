/**
 * @module egress/iptables
 * The egress policy in `iptables-restore` / `ip6tables-restore` format, one family per file (the
 * IPv6 tool refuses IPv4 addresses). A chain MAILGATE-EGRESS holds the policy: exempt sources and
 * internal destinations RETURN, internal sources are LOGged and REJECTed with a TCP reset (or
 * DROPped); FORWARD and OUTPUT jump to it for the blocked ports (multiport takes 15 ports per
 * rule). Load with `--noflush` so the rest of the filter table stays: the chain is declared in
 * the file, so it is emptied and refilled on every load (the jumps are inserted again, once more).
 * Only built-in targets and the chain declared here are used. REJECT with tcp-reset needs `-p tcp`
 * in its own rule (the kernel refuses it otherwise, which `--test` does not notice).
 * Syntax: iptables(8), iptables-extensions(8) (multiport, LOG, REJECT), iptables-restore(8).
 * Touches: nothing (pure).
 */
import type { Family } from './addresses.ts';
import { exemptLine, exemptNets, headerLines, ofFamily, type EgressModel } from './model.ts';
import { hashComments } from './text.ts';

export const IPTABLES_CHAIN = 'MAILGATE-EGRESS';

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Render for one family: 4 → `iptables-restore`, 6 → `ip6tables-restore`. */
export function renderIptables(m: EgressModel, family: Family): string {
  const tool = family === 4 ? 'iptables' : 'ip6tables';
  const format = family === 4 ? 'iptables' : 'ip6tables';
  const cidr = (n: { address: string; prefix: number }): string => `${n.address}/${n.prefix}`;
  const internal = ofFamily(m.internal, family);
  const exempt = ofFamily(exemptNets(m), family);
  const jumps = chunks(m.ports, 15).flatMap((ports) =>
    ['FORWARD', 'OUTPUT'].map((chain) => `-I ${chain} 1 -p tcp -m multiport --dports ${ports.join(',')} -j ${IPTABLES_CHAIN}`),
  );
  const reject = m.action === 'reject' ? `-j REJECT --reject-with tcp-reset` : '-j DROP';
  const lines = [
    ...hashComments(headerLines(m, format)),
    ...hashComments(m.exempt.map(exemptLine)),
    `# Syntax: iptables(8), iptables-extensions(8) (https://manpages.debian.org/bookworm/iptables/iptables-extensions.8.en.html), iptables-restore(8). Apply: ${tool}-restore --noflush FILE; check: ${tool}-restore --test --noflush FILE.`,
    `# Loading again refills ${IPTABLES_CHAIN} and inserts its jumps once more (harmless); ${tool} -S FORWARD lists them.`,
    '*filter',
    `:${IPTABLES_CHAIN} - [0:0]`,
    ...jumps,
    ...exempt.map((n) => `-A ${IPTABLES_CHAIN} -s ${cidr(n)} -j RETURN`),
    ...internal.map((n) => `-A ${IPTABLES_CHAIN} -d ${cidr(n)} -j RETURN`),
    ...internal.flatMap((n) => [
      ...(m.log ? [`-A ${IPTABLES_CHAIN} -p tcp -s ${cidr(n)} -j LOG --log-prefix "mailgate-egress: "`] : []),
      `-A ${IPTABLES_CHAIN} -p tcp -s ${cidr(n)} ${reject}`,
    ]),
    'COMMIT',
    '',
  ];
  return lines.join('\n');
}
