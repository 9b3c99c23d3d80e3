/**
 * @module queue
 * The queue's public surface: the delivery contract, the spool, the store and its states, the
 * acceptor (smtp/ imports only this part) and the scheduler (daemon/ wires the agent into it).
 * Touches: nothing by itself (re-exports).
 * RFCs: see the modules re-exported.
 */
export type {
  BounceBuilder,
  BounceInfo,
  DeliveryAgent,
  DeliveryRequest,
  Disposition,
  Envelope,
  MessageMeta,
  RecipientOutcome,
  RecipientStatus,
} from './contract.ts';
export { Spool, SpoolWriter, type SpoolOptions, type SpoolScan } from './spool.ts';
export { SpoolCorruptError, type SpoolMeta } from './spool-format.ts';
export { copySpool, type SpoolCopyReport } from './spool-copy.ts';
export type { MessageMetaInput } from './spool-writer.ts';
export {
  QUEUE_STATES,
  FINAL_STATES,
  IllegalTransitionError,
  assertTransition,
  canTransition,
  isFinal,
  isQueueState,
  nextStates,
  type QueueState,
} from './states.ts';
export { QueueStore, UnexpectedStateError, formatOutcome, type QueueRow, type RcptRow, type RcptStatus, type SetStateOptions } from './store.ts';
export { createAcceptor, type Acceptor, type AcceptorDeps, type AcceptMeta } from './accept.ts';
export { localRegistrar, registrationOf, type Admission, type Registrar, type Registration, type RowHook } from './register.ts';
export { registerOrphans, type OrphanDeps } from './orphans.ts';
export { Scheduler, type SchedulerOptions } from './scheduler.ts';
export { pruneFinalRows } from './prune.ts';
export { deleteQueued } from './delete.ts';
export { expireQuarantine, finishReleases, quarantineReasonOf, releaseHeld, type ReleaseDeps, type ReleaseResult } from './release.ts';
export type { QuarantineKind, QuarantineReason } from './quarantine-reason.ts';
export type { RecoverReport } from './recover.ts';
export { backoffMs } from './attempt.ts';
