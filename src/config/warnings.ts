/**
 * @module config/warnings
 * Settings that are valid but probably a mistake, reported by `config validate` and `config apply`
 * as `file: path: warning: …` lines (the config is still accepted): an inbound connector whose
 * senderIPAddresses entry is wider than a /16 (IPv4) or a /32 (IPv6). A connector attributes every
 * client in its ranges to a trusted path (Direct Send and DMARC enforcement no longer apply; an
 * OnPremises one may relay), so `0.0.0.0/0` makes the whole internet a trusted on-premises server.
 * Touches: nothing.
 */
import { parseCidr } from '../core/cidr.ts';
import type { Config } from './schema.ts';

/** The widest prefix a connector range should have, per address family. */
export const WIDEST_CONNECTOR_PREFIX = { 4: 16, 6: 32 } as const;

/** The warning lines of a validated config (empty when nothing looks wrong). */
export function configWarnings(config: Config, file?: string): string[] {
  const out: string[] = [];
  const at = (path: string): string => `${file ? file + ': ' : ''}${path}: warning: `;
  config.inboundConnectors.forEach((c, i) => {
    c.senderIPAddresses.forEach((entry, j) => {
      const { prefix, family } = parseCidr(entry);
      const widest = WIDEST_CONNECTOR_PREFIX[family];
      if (prefix >= widest) return;
      const grant = c.connectorType === 'OnPremises' ? ', and lets them relay' : '';
      out.push(
        `${at(`inboundConnectors[${i}].senderIPAddresses[${j}]`)}${entry} is wider than a /${widest}: connector "${c.name}" (${c.connectorType}) trusts every client in it${grant}`,
      );
    });
  });
  return out;
}
