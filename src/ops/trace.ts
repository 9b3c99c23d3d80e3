/**
 * @module ops/trace
 * The message trace (Exchange's Get-MessageTraceV2 / Get-MessageTraceDetailV2, with mailgate's
 * own refusals included): search with the filters admins use, and one message with its events
 * and their explanation in an Exchange admin's words (ops/trace-explain).
 * The CLI and the admin API call these; they format.
 * Both read ctx.trace: this node's SQLite trace, or on a fleet node the shared one (every node's).
 * Touches: the trace (read only, through ctx.trace).
 */
import { parseSince, type TraceEvent, type TraceFilter, type TraceMessage, type TraceStatus } from '../trace/index.ts';
import { parseCidr } from '../core/cidr.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { explainTrace, type TraceExplanation } from './trace-explain.ts';

export const TRACE_STATUSES: readonly TraceStatus[] = ['Received', 'Pending', 'Delivered', 'Failed', 'Quarantined', 'Rejected', 'Deferred'];
export const TRACE_TLS = ['none', '1.0', '1.1', '1.2', '1.3'] as const;
export const TRACE_CONNECTOR_TYPES = ['none', 'partner', 'onpremises'] as const;
export const TRACE_SPF = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror'] as const;
export const TRACE_DKIM = ['pass', 'fail', 'neutral', 'none', 'policy', 'temperror', 'permerror'] as const;
export const TRACE_DMARC = ['pass', 'fail', 'none', 'temperror', 'permerror'] as const;

/** A trace search: the filters of TraceFilter with the window as admins write it (`2d`, an ISO date). */
export interface TraceSearchInput extends Omit<TraceFilter, 'since' | 'until'> {
  /** e.g. 1h, 2d, 90d or an ISO date (default 2d). */
  since?: string | undefined;
}

/** Messages and refusals matching `input`, newest first. A bad window is `invalid`. */
export async function searchMessages(ctx: OpsContext, input: TraceSearchInput, now = Date.now()): Promise<TraceMessage[]> {
  let since: number;
  try {
    since = parseSince(input.since ?? '2d', now);
  } catch (e) {
    throw new OpsError('invalid', (e as Error).message);
  }
  if (input.clientIp !== undefined) {
    try {
      parseCidr(input.clientIp);
    } catch (e) {
      throw new OpsError('invalid', `--client-ip: ${(e as Error).message}`);
    }
  }
  const filter = { ...input, since, limit: input.limit ?? 1000 };
  return ctx.trace.search(filter);
}

/** One message (or refusal) with its events and their explanation; `not-found` when there is no trace for `id`. */
export async function showMessage(ctx: OpsContext, id: string): Promise<{ message: TraceMessage; events: TraceEvent[]; explanation: TraceExplanation }> {
  const r = await ctx.trace.show(id);
  if (!r) throw new OpsError('not-found', `no trace for ${id}`);
  return { ...r, explanation: explainTrace(r.message, r.events) };
}
