/**
 * @module policy
 * The public surface of the pure policy core: evaluate() for smtp/, evaluateTransaction() for a
 * whole transaction (the `policy test` what-if, the replay, the API), attribute() and
 * matchConnector() for reports and explanations, acceptedDomainOf(), and the policy vocabulary.
 * Touches: nothing (pure).
 */
export { evaluate, attributionReason, checksFor } from './evaluate.ts';
export { evaluateTransaction, type TransactionFacts, type TransactionResult, type StageResult, type TransactionOptions } from './transaction.ts';
export { attribute, attributeWith, matchConnector, certificateScore, type ConnectorMatch } from './attribute.ts';
export { acceptedDomainOf, isAccepted, senderDomainOf, headerFromDomainOf, domainMatchesAny } from './domains.ts';
export { maySendAs } from './auth.ts';
export { isRelayAttempt } from './relay.ts';
export type { Check, CheckContext, Refusal } from './context.ts';
export type * from './types.ts';
