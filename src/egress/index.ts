/**
 * @module egress
 * The public surface of egress/: one egress policy (the configuration's `egress:` block) rendered
 * for each firewall, pure and deterministic; and the egress step the readiness report and the
 * audit plan add (render and apply the block, verify, then watch the trace for sources that stop).
 * Touches: nothing (pure).
 */
import type { Egress } from '../config/index.ts';
import { renderAsa } from './asa.ts';
import { renderFortigate } from './fortigate.ts';
import { renderIptables } from './iptables.ts';
import { prepareEgress, type RenderMeta } from './model.ts';
import { renderNftables } from './nftables.ts';
import { renderPanos } from './panos.ts';
import { renderPf } from './pf.ts';
import { renderWindowsFirewall } from './windows-firewall.ts';

export const EGRESS_FORMATS = ['nftables', 'iptables', 'ip6tables', 'pf', 'asa', 'fortigate', 'panos', 'windows-firewall'] as const;
export type EgressFormat = (typeof EGRESS_FORMATS)[number];

/** Render the policy for one firewall (the same policy, version and day always give the same bytes). */
export function renderEgress(format: EgressFormat, egress: Egress, meta: RenderMeta): string {
  const m = prepareEgress(egress, meta);
  switch (format) {
    case 'nftables':
      return renderNftables(m);
    case 'iptables':
      return renderIptables(m, 4);
    case 'ip6tables':
      return renderIptables(m, 6);
    case 'pf':
      return renderPf(m);
    case 'asa':
      return renderAsa(m);
    case 'fortigate':
      return renderFortigate(m);
    case 'panos':
      return renderPanos(m);
    case 'windows-firewall':
      return renderWindowsFirewall(m);
  }
}

export { prepareEgress, type EgressModel, type RenderMeta } from './model.ts';
export { IPTABLES_CHAIN } from './iptables.ts';
export { egressStep, egressStepSummary, type EgressStep } from './step.ts';
