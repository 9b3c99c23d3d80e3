/**
 * @module ops/quarantine-requests
 * Release requests: a recipient follows the signed link of a notification (ops/release-tokens.ts),
 * confirms, and the request waits for an admin (or a per-domain approver, `quarantine.approvers`)
 * to approve — a release to that recipient only, exactly once (queue/release.ts) — or deny.
 * A token is used once; messages quarantined for malware-class reasons cannot be requested.
 * Touches: the quarantine request tables (queue/release-requests.ts), the queue and the trace
 * (through ops/quarantine.ts), the token key in the data directory.
 * RFCs: none.
 */
import type { Config } from '../config/index.ts';
import { ReleaseRequests, type ReleaseRequest, type RequestState } from '../queue/release-requests.ts';
import { quarantineReasonOf } from '../queue/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { openQueue, releaseQuarantine } from './quarantine.ts';
import { signToken, tokenKey, verifyToken } from './release-tokens.ts';

/** How long a link in a notification stays valid. */
export const LINK_TTL_MS = 14 * 86_400_000;

/** The base URL of release links: quarantine.publicUrl, else the admin listener's own URL. */
export function publicBase(config: Config): string {
  if (config.quarantine.publicUrl) return config.quarantine.publicUrl.replace(/\/+$/, '');
  const bind = config.admin.bind;
  const loopback = /^(127\.|\[::1\]|localhost)/.test(bind);
  return `${loopback && !config.admin.certFile ? 'http' : 'https'}://${bind}`;
}

/** The "request release" link for `rcpt` of message `id`. */
export function requestLink(ctx: OpsContext, base: string, id: string, rcpt: string, now: number): string {
  const token = signToken(tokenKey(ctx.dataDir), { id, rcpt, exp: now + LINK_TTL_MS });
  return `${base}/quarantine/request/${token}`;
}

/** What the confirm page shows for a token: still valid, unused, the message held for that recipient. */
export interface RequestInfo {
  queueId: string;
  rcpt: string;
  subject: string;
  from: string;
  nonce: string;
}

/** Check a token and the message it names; an OpsError says why it cannot be requested. */
export function describeRequest(ctx: OpsContext, token: string, now: number = Date.now()): RequestInfo {
  const claims = verifyToken(tokenKey(ctx.dataDir), token, now);
  if (new ReleaseRequests(ctx.db).used(claims.nonce)) throw new OpsError('conflict', 'this release link was used already');
  const { store } = openQueue(ctx);
  const row = store.get(claims.id);
  const reason = row && row.state === 'hold' ? quarantineReasonOf(row) : undefined;
  const held = row && store.recipients(row.id).some((r) => r.rcpt.toLowerCase() === claims.rcpt.toLowerCase() && (r.status === 'pending' || r.status === 'deferred'));
  if (!row || !reason || !held) throw new OpsError('not-found', 'this message is no longer in quarantine');
  if (reason.kind === 'malware') throw new OpsError('forbidden', 'this message was quarantined as malware and cannot be requested; ask your administrator');
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return { queueId: row.id, rcpt: claims.rcpt, subject: str(row.meta.facts.subject), from: str(row.meta.facts.headerFrom) || row.mailFrom, nonce: claims.nonce };
}

/** Record the request a token carries (once); returns it. */
export function requestRelease(ctx: OpsContext, token: string, now: number = Date.now()): ReleaseRequest {
  const info = describeRequest(ctx, token, now);
  const requests = new ReleaseRequests(ctx.db);
  if (!requests.add(info.nonce, info.queueId, info.rcpt, now)) throw new OpsError('conflict', 'this release link was used already');
  return requests.get(info.nonce) as ReleaseRequest;
}

/** Release requests, oldest first (default: pending ones), with who may approve them. */
export async function listRequests(ctx: OpsContext, state: RequestState | 'all' = 'pending'): Promise<Array<ReleaseRequest & { approvers: string[] }>> {
  const approvers = (await ctx.store.current())?.config.quarantine.approvers ?? [];
  return new ReleaseRequests(ctx.db).list(state === 'all' ? undefined : state).map((r) => {
    const domain = r.rcpt.slice(r.rcpt.lastIndexOf('@') + 1).toLowerCase();
    return { ...r, approvers: approvers.filter((a) => a.domain.toLowerCase() === domain).map((a) => a.address) };
  });
}

function pending(requests: ReleaseRequests, id: string): ReleaseRequest {
  const r = requests.get(id);
  if (!r) throw new OpsError('not-found', `no release request ${id}`);
  if (r.state !== 'pending') throw new OpsError('conflict', `release request ${id} was ${r.state} by ${r.decidedBy ?? 'someone'} already`);
  return r;
}

/** Approve: release the message to the requesting recipient only, exactly once; traced. */
export async function approveRequest(ctx: OpsContext, id: string, why?: string): Promise<ReleaseRequest> {
  const requests = new ReleaseRequests(ctx.db);
  const r = pending(requests, id);
  // The release is the exactly-once step (queue/release.ts); the request is marked after it, so a
  // crash in between leaves it pending and a second approve finds the recipient released already.
  try {
    await releaseQuarantine(ctx, r.queueId, { to: [r.rcpt], why: `release request ${id} approved${why ? `: ${why}` : ''}` });
  } catch (err) {
    const gone = err instanceof OpsError && (err.kind === 'invalid' || err.kind === 'not-found');
    if (!gone) throw err;
  }
  if (!requests.decide(id, 'approved', ctx.actor, Date.now())) pending(requests, id);
  return requests.get(id) as ReleaseRequest;
}

/** Deny: the message stays in quarantine; the request is closed. */
export function denyRequest(ctx: OpsContext, id: string): ReleaseRequest {
  const requests = new ReleaseRequests(ctx.db);
  pending(requests, id);
  if (!requests.decide(id, 'denied', ctx.actor, Date.now())) pending(requests, id);
  return requests.get(id) as ReleaseRequest;
}
