/**
 * @module policy/connector-tls
 * RequireTls on an inbound connector: mail that matched a connector with requireTls over a session
 * that is not encrypted is refused (Exchange: "$true rejects mail not sent over TLS"; reply text
 * undocumented there — open question 7). Checked at MAIL FROM, the first stage where a Partner
 * connector's senderDomains can be evaluated.
 * Touches: nothing (pure). RFCs: 3207 (STARTTLS).
 */
import { reject, type Check } from './context.ts';

/** Mail attributed to a connector with requireTls, session without TLS → 'connector-requires-tls'. */
export const checkConnectorTls: Check = (ctx) => {
  const c = ctx.attribution.kind === 'connector' ? ctx.match?.connector : undefined;
  if (!c || !c.requireTls || ctx.input.tls) return undefined;
  return reject('connector-requires-tls', 'connector:requires-tls', { connector: c.name });
};
