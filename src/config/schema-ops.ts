/**
 * @module config/schema-ops
 * The operating settings of the zod model: the admin listener, metrics, alerts and quarantine
 * (split from schema.ts, which includes them; same names and defaults).
 * Touches: nothing.
 */
import { z } from 'zod';

export const adminSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Serve the admin API (and /metrics) from `mailgate serve`.'),
    bind: z
      .string()
      .regex(/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):\d{1,5}$/, 'address:port, e.g. 127.0.0.1:8025 or [::1]:8025')
      .default('127.0.0.1:8025')
      .describe('Address and port of the admin listener. Plain HTTP on loopback; HTTPS anywhere else.'),
    certFile: z.string().optional().describe('PEM certificate chain for HTTPS; empty = the self-signed certificate in the data dir. Set on loopback too to force HTTPS.'),
    keyFile: z.string().optional().describe('PEM private key for certFile.'),
  })
  .strict()
  .refine((a) => (a.certFile === undefined) === (a.keyFile === undefined), { message: 'certFile and keyFile go together', path: ['keyFile'] });

/** Who may scrape GET /metrics (daemon/admin-listener.ts decides the route's scope from it). */
export const metricsSchema = z
  .object({
    public: z
      .boolean()
      .default(false)
      .describe('Serve /metrics without a token even when the admin listener is not on loopback (on loopback it never needs one); otherwise a token with the read scope.'),
  })
  .strict();

/** Alerts the queue owner evaluates on a schedule (src/alerts/), and where they go. */
export const alertsSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Evaluate the alert rules in the queue owner (alerts are listed with `mailgate alert list` even with no destination).'),
    intervalSeconds: z.number().int().min(1).default(60).describe('How often the rules are evaluated.'),
    renotifyMinutes: z.number().int().min(1).default(1440).describe('An alert still open is sent again at most this often (each alert is deduplicated by kind and subject).'),
    learningDays: z.number().min(0).default(7).describe('New anonymous sources are learnt, not alerted, for this many days after the first Direct Send message in the trace.'),
    connectorSilentDays: z.number().int().min(1).default(3).describe('A connector that matched mail on each of the 7 days before is reported once silent this many days.'),
    queueAgeSeconds: z.number().int().positive().default(3600).describe('Alert when the oldest undelivered message is older than this.'),
    deferredCount: z.number().int().positive().default(100).describe('Alert when this many messages are deferred.'),
    certExpiryDays: z.array(z.number().int().positive()).default([30, 7, 1]).describe('Alert when a listener or route client certificate expires within each of these many days.'),
    staleAllowDays: z.number().int().positive().default(30).describe('Alert on allow-list entries no message used for this many days.'),
    rejectionSpike: z
      .object({
        factor: z.number().positive().default(3).describe('An hour with this many times the hourly average of the 7 days before is a spike.'),
        minCount: z.number().int().positive().default(20).describe('Fewer refusals of a code than this in the hour are never a spike.'),
      })
      .strict()
      .default({ factor: 3, minCount: 20 }),
    webhooks: z
      .array(
        z
          .object({
            url: z.string().url().describe('Receives each alert as JSON (POST).'),
            secret: z.string().min(16).describe('Key of the X-Mailgate-Signature header: sha256=<hex HMAC-SHA256 of the body>.'),
          })
          .strict(),
      )
      .default([])
      .describe('Webhooks each alert is posted to (retried with backoff).'),
    email: z
      .object({
        to: z.array(z.string().email()).min(1).describe('Recipients of alert messages, delivered through the gateway itself.'),
        from: z.union([z.literal(''), z.string().email()]).default('').describe('Envelope and header sender; empty = mailgate@<hostname>.'),
      })
      .strict()
      .optional()
      .describe('Alerts also sent as mail, queued like bounces.'),
  })
  .strict();

export const quarantineSchema = z
  .object({
    retentionDays: z.number().int().positive().default(30).describe('Quarantined messages older than this are deleted by the queue owner (traced); 30 as in Exchange Online.'),
    notify: z
      .enum(['off', 'immediate', 'daily'])
      .default('off')
      .describe('Quarantine notifications to recipients, sent through the gateway: off, immediate (within seconds of the quarantine, one notice per recipient listing what is new) or daily (a digest).'),
    publicUrl: z
      .string()
      .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'an http(s) URL, e.g. https://mailgate.example.com:8025')
      .optional()
      .describe("Base URL of the release-request links in notifications; default the admin listener's URL."),
    notifyFrom: z.string().default('').describe('Sender of notifications; empty = quarantine@<organization.name>.'),
    approvers: z
      .array(
        z
          .object({
            domain: z.string().min(1).describe('Recipient domain whose release requests this approver decides.'),
            address: z.string().min(3).describe("The approver's address (shown with each request of the domain)."),
          })
          .strict(),
      )
      .default([])
      .describe('Per-domain approvers of release requests (besides admins): { domain, address }.'),
  })
  .strict();
