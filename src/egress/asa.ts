/**
 * @module egress/asa
 * The egress policy for a Cisco ASA: network object-groups for the internal ranges, the relay and
 * each exception (IPv4 as address + mask, IPv6 as prefix), a TCP service object-group of the
 * blocked ports, and an ACL bound inbound on the inside interface: permit the relay and the
 * exceptions, permit internal-to-internal, deny internal to anywhere else on those ports, permit
 * the rest (an interface ACL replaces the implicit permit, so the last line keeps other traffic
 * flowing). The ASA cannot reject in an ACL; `service resetinbound` makes it answer denied TCP
 * with a reset. Comments are `!` lines and ACL remarks (at most 100 characters).
 * Syntax: Cisco ASA Series Firewall CLI Configuration Guide 9.x, "Objects for Access Control"
 * (object-group network/service) and "Access Control Lists" (access-list extended, access-group);
 * Command Reference "service resetinbound".
 * Touches: nothing (pure).
 */
import { netmask4, type Net } from './addresses.ts';
import { headerLines, type EgressModel } from './model.ts';
import { cut, ident, oneLine } from './text.ts';

const ACL = 'MG-EGRESS';
const SVC = 'MG-EGRESS-SMTP';

function networkObject(n: Net): string {
  if (n.family === 4) return n.prefix === 32 ? ` network-object host ${n.address}` : ` network-object ${n.address} ${netmask4(n.prefix)}`;
  return n.prefix === 128 ? ` network-object host ${n.address}` : ` network-object ${n.address}/${n.prefix}`;
}

function group(name: string, description: string, nets: readonly Net[]): string[] {
  return [`object-group network ${name}`, ` description ${cut(oneLine(description), 200)}`, ...nets.map(networkObject)];
}

/** Render the ASA configuration lines (paste in configuration mode). */
export function renderAsa(m: EgressModel): string {
  const lines = headerLines(m, 'asa').map((l) => `! ${oneLine(l)}`);
  lines.push(
    '! Syntax: Cisco Secure Firewall ASA Series Firewall CLI Configuration Guide 9.x, "Objects for Access Control" and "Access Control Lists"; ASA Command Reference, "service resetinbound".',
    `! access-group replaces an ACL already bound inbound on ${m.inside}: if there is one, add these access-list lines at its top instead.`,
  );
  const exempt = m.exempt.map((e) => ({ e, name: e.kind === 'relay' ? 'MG-EGRESS-RELAY' : `MG-EGRESS-X-${ident(e.name)}` }));
  if (m.internal.length) lines.push(...group('MG-EGRESS-INTERNAL', 'internal ranges (mailgate egress policy)', m.internal));
  for (const { e, name } of exempt) lines.push(...group(name, e.kind === 'relay' ? "mailgate relay: mailgate's own hosts" : `${e.name}${e.expires ? ` until ${e.expires}` : ''}: ${e.comment}`, e.nets));
  lines.push(`object-group service ${SVC} tcp`, ...m.ports.map((p) => ` port-object eq ${p}`));
  lines.push(`access-list ${ACL} remark mailgate egress policy, configuration version ${m.version} (policy ${m.digest})`);
  for (const { e, name } of exempt) {
    lines.push(`access-list ${ACL} remark ${cut(oneLine(e.kind === 'relay' ? 'relay may send SMTP out' : `exception ${e.name}: ${e.comment}`), 100)}`);
    lines.push(`access-list ${ACL} extended permit tcp object-group ${name} any object-group ${SVC}`);
  }
  if (m.internal.length) {
    lines.push(`access-list ${ACL} remark internal to internal is not egress`);
    lines.push(`access-list ${ACL} extended permit tcp object-group MG-EGRESS-INTERNAL object-group MG-EGRESS-INTERNAL object-group ${SVC}`);
    lines.push(`access-list ${ACL} remark block direct SMTP from every other internal source`);
    lines.push(`access-list ${ACL} extended deny tcp object-group MG-EGRESS-INTERNAL any object-group ${SVC}${m.log ? ' log' : ''}`);
  } else lines.push('! no internal range: nothing to block');
  lines.push(`access-list ${ACL} extended permit ip any any`, `access-group ${ACL} in interface ${m.inside}`);
  if (m.action === 'reject') lines.push(`service resetinbound interface ${m.inside}`);
  return lines.join('\n') + '\n';
}
