/**
 * @module deliver
 * The public surface of deliver/: the delivery agent daemon/ injects into the queue, the bounce
 * builder, and route selection (for `mailgate route test`-style what-ifs).
 * Touches: nothing itself (see the modules it re-exports).
 * RFCs: see agent, smtp, pickup, mx and dsn.
 */
export { createDeliveryAgent, type ClosableDeliveryAgent, type DeliveryAgentOptions } from './agent.ts';
export { buildBounce } from './dsn.ts';
export { selectRoute, groupByRoute, type RouteGroups } from './route.ts';
export { defaultMxResolver, type MxRecord, type MxResolver } from './mx.ts';
export { defaultTimeouts, type SmtpTimeouts, type ConnectTo } from './smtp.ts';
export { createRecipientVerifier, type RecipientVerifier, type ProbeAnswer } from './recipient-probe.ts';
