/**
 * @module egress/panos
 * The egress policy as PAN-OS configuration-mode `set` commands: address objects (ip-netmask, IPv4
 * and IPv6), static address groups, a TCP service of the blocked ports, and two security rules
 * from the inside zone to the outside zone: allow the relay and the exceptions, then block every
 * internal source (`reset-client` sends a TCP reset for reject, `drop` discards), moved to the top
 * of the rulebase in that order. The `#` header is for the reader: paste only the `set`/`move`
 * lines (e.g. `grep -v '^#' FILE`), then `commit`.
 * Syntax: PAN-OS 11.1 CLI Quick Start, "Use Configuration Mode Commands"; PAN-OS Administrator's
 * Guide, "Security Policy" (rule actions allow, deny, drop, reset-client) and "Objects".
 * Touches: nothing (pure).
 */
import type { Net } from './addresses.ts';
import { headerLines, type EgressModel } from './model.ts';
import { hashComments, ident, panQuote } from './text.ts';

interface Obj {
  name: string;
  net: Net;
  description: string;
}

const object = (o: Obj): string[] => [`set address ${o.name} ip-netmask ${o.net.address}/${o.net.prefix}`, `set address ${o.name} description ${panQuote(o.description)}`];

/** Render the PAN-OS set commands. */
export function renderPanos(m: EgressModel): string {
  const internal: Obj[] = m.internal.map((net, i) => ({ name: `MG-EGRESS-INT-${i + 1}`, net, description: 'internal range' }));
  const exempt: Obj[] = m.exempt.flatMap((e) =>
    e.nets.map((net, i) => ({ name: `MG-EGRESS-${e.kind === 'relay' ? 'RELAY' : `X-${ident(e.name)}`}-${i + 1}`, net, description: e.kind === 'relay' ? "mailgate relay: mailgate's own hosts" : `${e.name}${e.expires ? ` until ${e.expires}` : ''}: ${e.comment}` })),
  );
  const from = `from ${m.inside} to ${m.outside}`;
  const svc = 'service MG-EGRESS-SMTP application any source-user any category any destination any';
  const desc = panQuote(`mailgate egress policy, configuration version ${m.version} (policy ${m.digest})`);
  const out = [
    ...hashComments(headerLines(m, 'panos')),
    '# Syntax: PAN-OS CLI configuration mode (set/move), PAN-OS Administrator\'s Guide "Security Policy". Paste the set/move lines, then commit.',
    ...[...internal, ...exempt].flatMap(object),
    `set service MG-EGRESS-SMTP protocol tcp port ${m.ports.join(',')}`,
  ];
  if (exempt.length) {
    out.push(
      `set address-group MG-EGRESS-EXEMPT static [ ${exempt.map((o) => o.name).join(' ')} ]`,
      `set rulebase security rules MG-EGRESS-ALLOW-RELAY ${from} source MG-EGRESS-EXEMPT ${svc} action allow`,
      `set rulebase security rules MG-EGRESS-ALLOW-RELAY description ${desc}`,
    );
  }
  if (internal.length) {
    out.push(
      `set address-group MG-EGRESS-INTERNAL static [ ${internal.map((o) => o.name).join(' ')} ]`,
      `set rulebase security rules MG-EGRESS-BLOCK ${from} source MG-EGRESS-INTERNAL ${svc} action ${m.action === 'reject' ? 'reset-client' : 'drop'} log-end ${m.log ? 'yes' : 'no'}`,
      `set rulebase security rules MG-EGRESS-BLOCK description ${desc}`,
      'move rulebase security rules MG-EGRESS-BLOCK top',
    );
  }
  if (exempt.length) out.push('move rulebase security rules MG-EGRESS-ALLOW-RELAY top');
  out.push('');
  return out.join('\n');
}
