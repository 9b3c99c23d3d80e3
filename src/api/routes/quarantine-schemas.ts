/**
 * @module api/routes/quarantine-schemas
 * The response documents of the quarantine routes as zod schemas (OpenAPI and fastify's
 * serializer, which drops any field not listed: each follows its ops/ type, checked at compile
 * time below): a held message, its safe preview with its trace events, a release's result, and
 * release requests.
 * Touches: nothing.
 */
import { z } from 'zod';
import type { QuarantineItem } from '../../ops/quarantine.ts';
import type { MessagePreview } from '../../ops/quarantine-preview.ts';
import type { listRequests } from '../../ops/quarantine-requests.ts';
import { TraceEventSchema } from './trace-schemas.ts';

export const QuarantineItemSchema = z.object({
  id: z.string(),
  receivedAt: z.number(),
  expiresAt: z.number().describe('when retention deletes it (ms since the epoch)'),
  reason: z.object({ kind: z.enum(['rule', 'dmarc', 'admin', 'malware']), rule: z.string().optional(), text: z.string() }),
  mailFrom: z.string(),
  headerFrom: z.string(),
  subject: z.string(),
  recipients: z.array(z.string()).describe('recipients still held'),
  attribution: z.string(),
  auth: z.object({ spf: z.string(), dkim: z.string(), dmarc: z.string(), compauth: z.string() }),
  size: z.number(),
});

export const PreviewSchema = z.object({
  headers: z.string(),
  text: z.string().describe('plain text; an HTML part is stripped to text, never rendered'),
  textSource: z.enum(['text/plain', 'text/html', 'none']),
  attachments: z.array(z.object({ name: z.string(), type: z.string(), size: z.number() })).describe('listed only, never opened'),
});

export const QuarantineShowSchema = QuarantineItemSchema.extend({ preview: PreviewSchema, events: z.array(TraceEventSchema) });

export const ReleaseResultSchema = z.object({ whole: z.boolean(), released: z.array(z.object({ rcpt: z.string(), queueId: z.string() })) });

export const ReleaseRequestSchema = z.object({
  id: z.string(),
  queueId: z.string(),
  rcpt: z.string(),
  requestedAt: z.number(),
  state: z.enum(['pending', 'approved', 'denied']),
  decidedBy: z.string().nullable(),
  decidedAt: z.number().nullable(),
});

export const ReleaseRequestListSchema = z.array(ReleaseRequestSchema.extend({ approvers: z.array(z.string()) }));

// A field added to an ops/ type and not listed above fails to compile here.
type Unlisted<T, S extends z.ZodType> = Exclude<keyof T, keyof z.infer<S>>;
type AllListed<U> = [U] extends [never] ? true : U;
export const quarantineFieldsListed: [AllListed<Unlisted<QuarantineItem, typeof QuarantineItemSchema>>, AllListed<Unlisted<MessagePreview, typeof PreviewSchema>>, AllListed<Unlisted<ReturnType<typeof listRequests>[number], typeof ReleaseRequestListSchema.element>>] = [true, true, true];
