/**
 * @module api/routes/trace-schemas
 * The response documents of the trace routes as zod schemas (the OpenAPI document and fastify's
 * serializer use them): a trace row with every column of trace/events' TraceMessage (the
 * serializer drops a field a schema does not list, so this list must follow that type), its
 * events, and the explanation ops/trace-explain writes.
 * Touches: nothing.
 */
import { z } from 'zod';
import type { TraceMessage, TraceStatus } from '../../trace/index.ts';
import { TRACE_STATUSES } from '../../ops/trace.ts';

const opt = <T extends z.ZodType>(t: T) => t.optional();

export const TraceMessageSchema = z.object({
  id: z.string(),
  connectionId: z.string(),
  receivedAt: z.number(),
  clientIp: z.string(),
  clientPort: opt(z.number()),
  helo: opt(z.string()),
  listener: z.string(),
  tlsVersion: opt(z.string()),
  tlsCipher: opt(z.string()),
  certSubject: opt(z.string()),
  spf: opt(z.string()),
  dkim: opt(z.string()).describe('"none" or a JSON array of {d, s, result}'),
  dmarc: opt(z.string()),
  arc: opt(z.string()),
  compauth: opt(z.string()),
  spoofSuspect: opt(z.boolean()),
  dnsLookups: opt(z.number()),
  node: opt(z.string()),
  certCn: opt(z.string()),
  certSans: opt(z.array(z.string())),
  certVerified: opt(z.boolean()),
  authUser: opt(z.string()),
  mailFrom: opt(z.string()),
  headerFrom: opt(z.string()),
  recipients: z.array(z.string()),
  subject: opt(z.string()),
  size: opt(z.number()),
  messageId: opt(z.string()),
  attribution: opt(z.string()),
  connector: opt(z.string()),
  connectorType: opt(z.string()),
  connectorMatchedBy: opt(z.string()),
  status: z.enum(TRACE_STATUSES as [TraceStatus, ...TraceStatus[]]),
  reply: opt(z.string()),
  reasons: opt(z.array(z.string())),
  source: opt(z.string()),
});

// A column added to TraceMessage and not listed above fails to compile here.
type Unlisted = Exclude<keyof TraceMessage, keyof z.infer<typeof TraceMessageSchema>>;
export const traceColumnsListed: [Unlisted] extends [never] ? true : Unlisted = true;

export const TraceEventSchema = z.object({
  messageId: z.string(),
  at: z.number(),
  event: z.string().describe('RECEIVE, REJECT, RULE, QUARANTINE, DEFER, DELIVER, FAIL, DSN, RELEASE, DELETE, CONNECT_REJECT'),
  recipient: opt(z.string()),
  detail: opt(z.string()).describe('the reply text, the next hop reply, or the reason'),
});

export const TraceExplanationSchema = z.object({
  summary: z.string(),
  lines: z.array(z.object({ topic: z.string(), tone: z.enum(['ok', 'warn', 'bad']), text: z.string() })),
});

export const TraceShowSchema = z.object({ message: TraceMessageSchema, events: z.array(TraceEventSchema), explanation: TraceExplanationSchema });
