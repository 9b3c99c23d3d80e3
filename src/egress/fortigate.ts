/**
 * @module egress/fortigate
 * The egress policy as a FortiOS CLI script: address objects (IPv4 `config firewall address`,
 * IPv6 `config firewall address6`), address groups, a custom TCP service of the blocked ports, and
 * two policies from the inside to the outside interface: accept the relay and the exceptions
 * (with NAT, as a general outbound policy has), then deny every internal source (`send-deny-packet`
 * sends a TCP reset for reject). FortiOS 7.x policies take IPv4 and IPv6 addresses together.
 * `edit 0` appends: move both above your general outbound policy.
 * Syntax: FortiOS 7.4 CLI Reference, "config firewall address", "config firewall address6",
 * "config firewall addrgrp", "config firewall addrgrp6", "config firewall service custom",
 * "config firewall policy".
 * Touches: nothing (pure).
 */
import { netmask4, type Net } from './addresses.ts';
import { headerLines, ofFamily, type EgressModel } from './model.ts';
import { fortiQuote, hashComments, ident } from './text.ts';

interface Obj {
  name: string;
  net: Net;
  comment: string;
}

function addresses(objs: readonly Obj[]): string[] {
  const out: string[] = [];
  for (const family of [4, 6] as const) {
    const mine = objs.filter((o) => o.net.family === family);
    if (!mine.length) continue;
    out.push(family === 4 ? 'config firewall address' : 'config firewall address6');
    for (const o of mine) {
      out.push(`    edit ${fortiQuote(o.name)}`);
      out.push(family === 4 ? `        set subnet ${o.net.address} ${netmask4(o.net.prefix)}` : `        set ip6 ${o.net.address}/${o.net.prefix}`);
      out.push(`        set comment ${fortiQuote(o.comment)}`, '    next');
    }
    out.push('end');
  }
  return out;
}

function groups(name: string, objs: readonly Obj[]): { lines: string[]; v4: boolean; v6: boolean } {
  const lines: string[] = [];
  const has = { v4: false, v6: false };
  for (const family of [4, 6] as const) {
    const mine = objs.filter((o) => o.net.family === family);
    if (!mine.length) continue;
    has[family === 4 ? 'v4' : 'v6'] = true;
    lines.push(family === 4 ? 'config firewall addrgrp' : 'config firewall addrgrp6');
    lines.push(`    edit ${fortiQuote(family === 4 ? name : `${name}6`)}`, `        set member ${mine.map((o) => fortiQuote(o.name)).join(' ')}`, '    next', 'end');
  }
  return { lines, ...has };
}

function policy(m: EgressModel, name: string, group: string, g: { v4: boolean; v6: boolean }, accept: boolean): string[] {
  const src = [...(g.v4 ? [`        set srcaddr ${fortiQuote(group)}`, '        set dstaddr "all"'] : []), ...(g.v6 ? [`        set srcaddr6 ${fortiQuote(`${group}6`)}`, '        set dstaddr6 "all"'] : [])];
  const tail = accept
    ? ['        set action accept', '        set nat enable']
    : ['        set action deny', ...(m.action === 'reject' ? ['        set send-deny-packet enable'] : []), `        set logtraffic ${m.log ? 'all' : 'disable'}`];
  return ['    edit 0', `        set name ${fortiQuote(name)}`, `        set srcintf ${fortiQuote(m.inside)}`, `        set dstintf ${fortiQuote(m.outside)}`, ...src, '        set schedule "always"', '        set service "MG-EGRESS-SMTP"', ...tail, `        set comments ${fortiQuote(`mailgate egress policy, configuration version ${m.version} (policy ${m.digest})`)}`, '    next'];
}

/** Render the FortiOS CLI script. */
export function renderFortigate(m: EgressModel): string {
  const internal: Obj[] = m.internal.map((net, i) => ({ name: `MG-EGRESS-INT-${i + 1}`, net, comment: 'internal range' }));
  const exempt: Obj[] = m.exempt.flatMap((e) =>
    e.nets.map((net, i) => ({ name: `MG-EGRESS-${e.kind === 'relay' ? 'RELAY' : `X-${ident(e.name)}`}-${i + 1}`, net, comment: e.kind === 'relay' ? "mailgate relay: mailgate's own hosts" : `${e.name}${e.expires ? ` until ${e.expires}` : ''}: ${e.comment}` })),
  );
  const gi = groups('MG-EGRESS-INTERNAL', internal);
  const ge = groups('MG-EGRESS-EXEMPT', exempt);
  const out = [
    ...hashComments(headerLines(m, 'fortigate')),
    '# Syntax: FortiOS 7.4 CLI Reference (config firewall address/address6/addrgrp/addrgrp6/service custom/policy).',
    '# The policies are appended (edit 0): move them above your general outbound policy (config firewall policy; move ID before ID).',
    ...addresses([...internal, ...exempt]),
    ...gi.lines,
    ...ge.lines,
    'config firewall service custom',
    '    edit "MG-EGRESS-SMTP"',
    '        set protocol TCP/UDP/SCTP',
    `        set tcp-portrange ${m.ports.join(' ')}`,
    '    next',
    'end',
    'config firewall policy',
    ...(ge.v4 || ge.v6 ? policy(m, 'MG-EGRESS-ALLOW-RELAY', 'MG-EGRESS-EXEMPT', ge, true) : []),
    ...(gi.v4 || gi.v6 ? policy(m, 'MG-EGRESS-BLOCK', 'MG-EGRESS-INTERNAL', gi, false) : []),
    'end',
    '',
  ];
  return out.join('\n');
}
