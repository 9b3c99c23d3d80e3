/**
 * @module egress/step
 * The egress step of the Direct Send readiness report and the audit plan, from the policy in
 * force: once the devices relay through mailgate, render and apply the block, prove it from a
 * client subnet, then watch the trace for sources that stop sending (they were sending straight
 * out). Safe by construction: with no relay address configured, blocking would cut off mailgate's
 * own outbound mail, so the step then says to set it first and gives no apply command.
 * Touches: nothing (pure).
 */
import type { Egress } from '../config/index.ts';
import { toNet } from './addresses.ts';

export interface EgressStep {
  title: string;
  /** Shell commands in order (comments start with #). */
  commands: string[];
  notes: string[];
  /** False when the policy is not ready to apply (no relay address). */
  ready: boolean;
}

/** The egress step for the policy in force; `probeTarget` is an outside SMTP host for `egress check`. */
export function egressStep(egress: Egress, probeTarget = 'smtp.example.net'): EgressStep {
  const title = 'Block direct SMTP egress (once the devices relay through mailgate)';
  const ports = [...new Set(egress.blockedPorts)].sort((a, b) => a - b).join(',');
  const notes = [
    `The firewall blocks TCP ${ports} from ${egress.internalRanges.map((r) => toNet(r).text).join(', ') || '(no internal range)'} to the outside, except from the relay and the named exceptions.`,
    'A source that stops sending after the block date was sending straight out: move it to the relay (connector or SMTP AUTH) or confirm it was retired.',
  ];
  if (egress.relayAddresses.length === 0) {
    return {
      title,
      ready: false,
      notes: ['No relay address is set: a block now would also stop mailgate\'s own outbound mail. Set it first, then render.', ...notes],
      commands: ['# 1. set the addresses mailgate sends from (every gateway host), then render again', 'mailgate egress set --relay-address <mailgate host IP> [--internal-range <CIDR> ...]', 'mailgate egress show'],
    };
  }
  return {
    title,
    ready: true,
    notes,
    commands: [
      '# 1. review the policy (relay and exceptions)',
      'mailgate egress show',
      '# 2. render it for your firewall (nftables|iptables|ip6tables|pf|asa|fortigate|panos|windows-firewall) and apply it; e.g. nftables:',
      'mailgate egress render --format nftables -o egress.nft && nft -c -f egress.nft && nft -f egress.nft',
      `# 3. from a client subnet, prove every port is blocked (exit 0 only if all are)`,
      `mailgate egress check --target ${probeTarget} --ports ${ports}`,
      '# 4. a week later: the sources that stopped sending after the block date',
      'mailgate report egress-gone --block-date <YYYY-MM-DD of step 2> --since 30d',
    ],
  };
}

/** The step as summary lines of the readiness report: the title, then its commands, indented. */
export function egressStepSummary(step: EgressStep): string[] {
  return [`next, ${step.title.charAt(0).toLowerCase()}${step.title.slice(1)}:`, ...step.commands.filter((c) => !c.startsWith('#')).map((c) => `  ${c}`)];
}
