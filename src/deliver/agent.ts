/**
 * @module deliver/agent
 * The DeliveryAgent the queue calls (Postfix's qmgr → smtp/local split): reads the routes afresh
 * for every request (so a config reload applies to the next attempt), groups recipients by route,
 * delivers each group (pickup folder, SMTP next hop, or MX), and returns exactly one outcome per
 * requested recipient, in request order. Never throws: an unexpected exception becomes deferred
 * outcomes carrying the error text; a recipient no route serves fails with 5.4.4; a message whose
 * hop count (Received headers, recorded at receipt) exceeds the limit fails 5.4.6 unsent (a loop).
 * Touches: through pickup/ and smtp/ only: the pickup folders and outbound SMTP.
 * RFCs: 5321 §5 (address resolution), §6.3 (loop detection), 3463 (X.4.4 unable to route, X.4.6 loop).
 */
import type { Logger } from '../core/log.ts';
import type { Route } from '../config/schema.ts';
import type { DeliveryAgent, DeliveryRequest, RecipientOutcome } from '../queue/contract.ts';
import { defaultMxResolver, type MxResolver } from './mx.ts';
import { deliverPickup, pickupFolder } from './pickup.ts';
import { groupByRoute } from './route.ts';
import { createSmtpClient, type ConnectTo, type SmtpClient, type SmtpTimeouts } from './smtp.ts';
import { systemMtaSts, type MtaStsDeps } from './mta-sts.ts';

export interface DeliveryAgentOptions {
  /** Current routes; called per request so config reloads apply. */
  routes: () => readonly Route[];
  /** The data dir; pickup folders are relative to it. */
  dataDir: string;
  /** Our host name (EHLO). */
  hostname: string;
  resolveMx?: MxResolver;
  logger: Logger;
  timeouts?: Partial<SmtpTimeouts>;
  /** Test seam: the address actually dialled for a next-hop name (identity by default). */
  connectTo?: ConnectTo;
  /** Most Received headers a message may carry (organization.hopCountLimit); undefined = no check. */
  hopCountLimit?: () => number;
  /** MTA-STS lookups for mx routes (default: the system's DNS and HTTPS); false = never checked. */
  mtaSts?: MtaStsDeps | false;
}

export type ClosableDeliveryAgent = DeliveryAgent & { close(): Promise<void> };

/** Outcomes for recipients no route serves. */
function unroutedOutcomes(recipients: readonly string[]): RecipientOutcome[] {
  return recipients.map((rcpt) => ({ rcpt, status: 'failed', enhanced: '5.4.4', reply: '5.4.4 no route to domain' }));
}

/** Deferred outcomes carrying an unexpected error. */
function errorOutcomes(recipients: readonly string[], err: unknown): RecipientOutcome[] {
  const reply = `internal delivery error: ${err instanceof Error ? err.message : String(err)}`;
  return recipients.map((rcpt) => ({ rcpt, status: 'deferred', enhanced: '4.3.0', reply }));
}

/** Deliver one route group; pickup routes sharing a folder were merged by the caller. */
function deliverGroup(smtp: SmtpClient, opts: DeliveryAgentOptions, route: Route, req: DeliveryRequest, rcpts: string[]): Promise<RecipientOutcome[]> {
  switch (route.type) {
    case 'pickup':
      return deliverPickup(route, opts.dataDir, req, rcpts);
    case 'smtp':
      return smtp.deliverSmtp(route, req, rcpts);
    case 'mx':
      return smtp.deliverMx(route, req, rcpts);
  }
}

/** Merge pickup groups that write to the same folder, so one `<queueId>.eml` carries all their recipients. */
function mergePickupGroups(groups: Map<Route, string[]>, dataDir: string): Array<[Route, string[]]> {
  const out: Array<[Route, string[]]> = [];
  const byFolder = new Map<string, [Route, string[]]>();
  for (const [route, rcpts] of groups) {
    if (route.type !== 'pickup') {
      out.push([route, rcpts]);
      continue;
    }
    const folder = pickupFolder(route, dataDir);
    const seen = byFolder.get(folder);
    if (seen) seen[1].push(...rcpts);
    else {
      const entry: [Route, string[]] = [route, [...rcpts]];
      byFolder.set(folder, entry);
      out.push(entry);
    }
  }
  return out;
}

/** Put outcomes back in request order, one per requested recipient (duplicates consume in turn). */
function inRequestOrder(requested: readonly string[], outcomes: readonly RecipientOutcome[]): RecipientOutcome[] {
  const pool = new Map<string, RecipientOutcome[]>();
  for (const o of outcomes) pool.set(o.rcpt, [...(pool.get(o.rcpt) ?? []), o]);
  return requested.map((rcpt) => {
    const list = pool.get(rcpt);
    const next = list && list.length > 1 ? list.shift() : list?.[0];
    return next ?? { rcpt, status: 'deferred', enhanced: '4.3.0', reply: 'internal delivery error: no outcome for recipient' };
  });
}

/** Failed outcomes for a looping message (more hops than the limit), or undefined when within it. */
function loopOutcomes(opts: DeliveryAgentOptions, req: DeliveryRequest): RecipientOutcome[] | undefined {
  const hops = req.meta.facts['hops'];
  const limit = opts.hopCountLimit?.();
  if (typeof hops !== 'number' || limit === undefined || hops <= limit) return undefined;
  const reply = `mail forwarding loop: ${hops} Received headers exceed hopCountLimit ${limit}; not delivered`;
  return req.recipients.map((rcpt) => ({ rcpt, status: 'failed', enhanced: '5.4.6', reply }));
}

/** Group, deliver every group concurrently, collect. */
async function deliverRequest(smtp: SmtpClient, opts: DeliveryAgentOptions, req: DeliveryRequest): Promise<RecipientOutcome[]> {
  const looping = loopOutcomes(opts, req);
  if (looping) return looping;
  const { byRoute, unrouted } = groupByRoute(opts.routes(), req.recipients);
  const groups = mergePickupGroups(byRoute, opts.dataDir);
  const results = await Promise.all(
    groups.map(([route, rcpts]) => deliverGroup(smtp, opts, route, req, rcpts).catch((err: unknown) => errorOutcomes(rcpts, err))),
  );
  return [...unroutedOutcomes(unrouted), ...results.flat()];
}

/** Create the delivery agent the queue's scheduler calls. */
export function createDeliveryAgent(opts: DeliveryAgentOptions): ClosableDeliveryAgent {
  const smtp = createSmtpClient({
    hostname: opts.hostname,
    timeouts: opts.timeouts,
    resolveMx: opts.resolveMx ?? defaultMxResolver,
    connectTo: opts.connectTo,
    mtaSts: opts.mtaSts === false ? undefined : (opts.mtaSts ?? systemMtaSts((msg, fields) => opts.logger.warn(fields, msg))),
  });
  const agent = async (req: DeliveryRequest): Promise<RecipientOutcome[]> => {
    let outcomes: RecipientOutcome[];
    try {
      outcomes = await deliverRequest(smtp, opts, req);
    } catch (err) {
      outcomes = errorOutcomes(req.recipients, err);
    }
    const ordered = inRequestOrder(req.recipients, outcomes);
    const counts = { delivered: 0, deferred: 0, failed: 0 };
    for (const o of ordered) counts[o.status]++;
    opts.logger.info({ queueId: req.queueId, attempt: req.attempt, ...counts }, 'delivery attempt finished');
    return ordered;
  };
  return Object.assign(agent, { close: () => smtp.closeAll() });
}
