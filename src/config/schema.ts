/**
 * @module config/schema
 * The zod schema of the whole model, with Exchange Online's names so admins recognise them
 * (Organization, AcceptedDomain, InboundConnector, ReceiveConnector, lists, routes, users).
 * Every setting has a type, a default and a doc string (`.describe`). This is the one place a
 * setting is declared; docs and `config show --defaults` derive from it.
 * Touches: nothing.
 */
import { z } from 'zod';
import { adminSchema, alertsSchema, metricsSchema, quarantineSchema } from './schema-ops.ts';
export { adminSchema, alertsSchema, metricsSchema, quarantineSchema } from './schema-ops.ts';
import { confinedDirProblem } from '../core/confine.ts';
import { transportRuleSchema } from './schema-rules.ts';
import { egressExceptionSchema, egressSchema, ipOrCidr } from './schema-egress.ts';
import { nodeEntrySchema } from './schema-nodes.ts';
export { egressExceptionSchema, egressSchema } from './schema-egress.ts';

const domainName = z
  .string()
  .min(1)
  .regex(/^(\*|\*\.)?[A-Za-z0-9\u00a0-\uffff]([A-Za-z0-9\u00a0-\uffff.-]*[A-Za-z0-9\u00a0-\uffff])?\.?$|^\*$/, 'not a domain name');

export const organizationSchema = z
  .object({
    name: z.string().min(1).default('example.com').describe('Organization name (shown in reports).'),
    rejectDirectSend: z
      .boolean()
      .default(false)
      .describe('Exchange RejectDirectSend: reject anonymous mail whose MAIL FROM domain is an accepted domain and that matched no connector (550 5.7.68).'),
    rejectDirectSendHeaderFrom: z
      .boolean()
      .default(false)
      .describe('Beyond Exchange: with rejectDirectSend on, also apply the rule to the header From (checked at end of DATA).'),
    hostname: z.string().default('').describe('Name in the banner, Received headers and reply ids; empty = the system host name.'),
    honorDmarcPolicy: z
      .boolean()
      .default(true)
      .describe("Honour the sender domain's DMARC policy for anonymous mail: p=reject gets 550 5.7.509, p=quarantine is held in quarantine (OnPremises connectors and authenticated users exempt)."),
    authservId: z.string().default('').describe('authserv-id of our Authentication-Results header; empty = the host name.'),
    hopCountLimit: z
      .number()
      .int()
      .min(1)
      .default(50)
      .describe("Most Received: headers a message may carry, ours included (Postfix's hopcount_limit): more is a mail loop, refused 554 5.4.6 at end of DATA and failed at delivery."),
  })
  .strict();

export const acceptedDomainSchema = z
  .object({
    domainName: domainName.describe('SMTP domain the organization receives mail for.'),
    domainType: z.enum(['Authoritative', 'InternalRelay']).default('Authoritative').describe('Authoritative or InternalRelay.'),
    matchSubDomains: z.boolean().default(false).describe('Also accept mail for subdomains (Exchange requires InternalRelay).'),
    recipientValidation: z
      .enum(['none', 'list', 'verify'])
      .optional()
      .describe("Refuse unknown recipients at RCPT TO with 550 5.4.1 (Exchange's Directory-Based Edge Blocking), so nothing is accepted that would bounce: none (default), list (recipients and/or recipientsFile), verify (a cached RCPT probe to the domain's next hop; 450 4.1.1 while it cannot tell, Postfix's reject_unverified_recipient)."),
    recipients: z.array(z.string()).optional().describe('list: the addresses that exist (local@domain, case-insensitive).'),
    recipientsFile: z.string().optional().describe('list: a file of addresses, one per line (# comments); re-read when it changes. Relative to the data dir.'),
    verifyPositiveTtlSeconds: z.number().int().positive().optional().describe('verify: how long an accepted probe is remembered (default 86400).'),
    verifyNegativeTtlSeconds: z.number().int().positive().optional().describe('verify: how long a refused probe is remembered (default 3600).'),
  })
  .strict()
  .refine((d) => !d.matchSubDomains || d.domainType === 'InternalRelay', {
    message: 'matchSubDomains requires domainType InternalRelay (as in Exchange Online)',
    path: ['matchSubDomains'],
  })
  .refine((d) => d.recipientValidation !== 'list' || (d.recipients?.length ?? 0) > 0 || d.recipientsFile !== undefined, {
    message: 'recipientValidation list needs recipients or recipientsFile',
    path: ['recipientValidation'],
  });

export const inboundConnectorSchema = z
  .object({
    name: z.string().min(1).describe('Connector name; appears in the trace as the connector.'),
    connectorType: z.enum(['Partner', 'OnPremises']).default('Partner').describe('Partner (external services) or OnPremises (your own servers; may relay out).'),
    senderIPAddresses: z.array(ipOrCidr).default([]).describe('Source IPs or CIDRs (IPv4 and IPv6; Exchange takes IPv4 only).'),
    senderDomains: z.array(domainName).default(['*']).describe('Partner: sender domains the connector is for ("*", "contoso.com", "*.contoso.com").'),
    tlsSenderCertificateName: domainName.optional().describe('Match by the verified client certificate subject CN or SAN ("*.contoso.com" = domain and subdomains).'),
    requireTls: z.boolean().default(false).describe('Reject mail through this connector that was not sent over TLS.'),
    restrictDomainsToIPAddresses: z.boolean().default(false).describe('Partner: reject mail from senderDomains that does not come from senderIPAddresses (550 5.7.51).'),
    restrictDomainsToCertificate: z.boolean().default(false).describe('Partner: reject mail from senderDomains that does not present tlsSenderCertificateName (550 5.7.51).'),
    enabled: z.boolean().default(true).describe('Disabled connectors match nothing.'),
    comment: z.string().default('').describe('Free text.'),
  })
  .strict()
  .refine((c) => !(c.restrictDomainsToIPAddresses || c.restrictDomainsToCertificate) || c.connectorType === 'Partner', {
    message: 'restrictDomainsTo* apply only to Partner connectors',
    path: ['connectorType'],
  })
  .refine((c) => !c.restrictDomainsToCertificate || c.tlsSenderCertificateName !== undefined, {
    message: 'restrictDomainsToCertificate needs tlsSenderCertificateName',
    path: ['tlsSenderCertificateName'],
  })
  .refine((c) => !c.restrictDomainsToIPAddresses || c.senderIPAddresses.length > 0, {
    message: 'restrictDomainsToIPAddresses needs senderIPAddresses',
    path: ['senderIPAddresses'],
  });

export const tlsSchema = z
  .object({
    mode: z.enum(['starttls', 'implicit', 'none']).default('starttls').describe('STARTTLS offered, implicit TLS (port 465 style), or no TLS.'),
    certFile: z.string().optional().describe('PEM certificate chain; empty = a self-signed certificate generated in the data dir.'),
    keyFile: z.string().optional().describe('PEM private key for certFile.'),
    requestClientCert: z.boolean().default(true).describe('Ask the client for a certificate (recorded; used to match connectors).'),
    clientCaFile: z.string().optional().describe('PEM CAs trusted for client certificates; a certificate matches a connector only if it verifies against these (or the system CAs when unset).'),
  })
  .strict();

export const receiveConnectorSchema = z
  .object({
    name: z.string().min(1).describe('Listener name (recorded in the trace).'),
    bind: z.string().default('127.0.0.1').describe('Address to listen on.'),
    port: z.number().int().min(0).max(65535).describe('TCP port.'),
    role: z.enum(['mx', 'relay', 'submission']).default('mx').describe('mx: anonymous mail in; relay: devices and apps; submission: authenticated users.'),
    tls: tlsSchema.default({ mode: 'starttls', requestClientCert: true }),
    requireAuth: z.boolean().optional().describe('Require SMTP AUTH before MAIL (default: true for submission).'),
    allowAuth: z
      .boolean()
      .optional()
      .describe('Offer SMTP AUTH on this listener (default: false for role mx unless requireAuth, true otherwise); where off, AUTH is not advertised and is answered 500.'),
    remoteIPRanges: z.array(ipOrCidr).default([]).describe('Scoped access: only these clients may connect (empty = any).'),
    defaultDeny: z.boolean().default(false).describe('Accept only mail attributed to a connector or an authenticated user.'),
    maxMessageSize: z.number().int().positive().default(36_700_160).describe('Bytes; advertised as SIZE; larger gets 552 5.3.4.'),
    maxRecipients: z.number().int().positive().default(100).describe('Recipients per message; more get 452 4.5.3.'),
    maxConnections: z.number().int().positive().default(10_000).describe('Concurrent connections per process; clamped at start (with a warning) so all listeners fit in the open-file limit.'),
    idleTimeoutSeconds: z.number().positive().default(300).describe('Idle client timeout (RFC 5321 §4.5.3.2: at least 5 minutes).'),
    maxErrors: z.number().int().positive().default(10).describe('Rejected commands before the session is closed with 421.'),
    greetingDelayMs: z
      .number()
      .int()
      .min(0)
      .max(30_000)
      .default(0)
      .describe('Pause before the 220 banner; a client that talks during it gets 421 (early-talker detection, e.g. 100 on an internet MX).'),
    maxLineLength: z.number().int().min(78).default(8192).describe('Longest DATA line in bytes without CRLF; longer gets 550 5.5.2.'),
    maxConnectionsPerClient: z
      .number()
      .int()
      .min(0)
      .default(50)
      .describe("Concurrent connections from one client IP on this listener (per receive process); more get 421 4.7.0. 0 = no limit. IPs of an inbound connector and the allow list are exempt (Postfix's smtpd_client_connection_count_limit)."),
    maxConnectionRatePerClient: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("Connection attempts from one client IP per minute on this listener (per receive process); more get 421 4.7.0. 0 = no limit. Connector and allow-listed IPs are exempt (Postfix's smtpd_client_connection_rate_limit)."),
  })
  .strict()
  .refine((l) => !(l.requireAuth === true && l.allowAuth === false), { message: 'requireAuth needs allowAuth', path: ['allowAuth'] });

export const listSchema = z
  .object({
    ips: z.array(ipOrCidr).default([]).describe('IPs and CIDRs.'),
    senderDomains: z.array(domainName).default([]).describe('Sender (MAIL FROM) domains; "*.d" includes subdomains.'),
  })
  .strict();

/** OAuth 2.0 client-credentials settings of a route (Microsoft identity platform; deliver/oauth2). */
export const routeOAuth2Schema = z
  .object({
    user: z.string().min(1).describe('Mailbox to authenticate as (the XOAUTH2 user; it needs SendAs/FullAccess for the app).'),
    tenantId: z.string().min(1).describe('Microsoft Entra tenant id (directory id or a verified domain).'),
    clientId: z.string().min(1).describe('Application (client) id of the app registration.'),
    clientSecret: z.string().min(1).optional().describe('Client secret (masked by config show/export; prefer clientSecretFile).'),
    clientSecretFile: z.string().min(1).optional().describe('File holding the client secret (read at each token request).'),
    scope: z.string().default('https://outlook.office365.com/.default').describe('Scope requested with the client-credentials grant.'),
    tokenEndpoint: z.string().url().optional().describe('Token endpoint; default https://login.microsoftonline.com/TENANT/oauth2/v2.0/token.'),
  })
  .strict()
  .refine((o) => (o.clientSecret === undefined) !== (o.clientSecretFile === undefined), { message: 'give exactly one of clientSecret and clientSecretFile', path: ['clientSecret'] });

export const routeSchema = z
  .object({
    name: z.string().min(1).describe('Route name.'),
    domains: z.array(domainName).default(['*']).describe('Recipient domains this route serves; the most precise match wins.'),
    type: z.enum(['pickup', 'smtp', 'mx']).default('pickup').describe('pickup folder, an SMTP next hop, or MX lookup.'),
    host: z.string().optional().describe('smtp: next hop host.'),
    port: z.number().int().min(1).max(65535).default(25).describe('smtp/mx: port.'),
    tls: z
      .enum(['none', 'may', 'encrypt', 'verify', 'secure', 'opportunistic', 'required'])
      .default('may')
      .describe(
        "TLS level toward the next hop (Postfix's names): none; may (STARTTLS when offered, certificate not checked); encrypt (TLS required, not checked); verify (TLS required, chain checked against the system CAs or caFile and the name against the host or tlsName, else deferred 4.7.5); secure (as verify; on an mx route the name must be the recipient domain or a subdomain). Old names: opportunistic = may, required = verify.",
      ),
    caFile: z.string().optional().describe('verify/secure: PEM CAs the next hop certificate must chain to (default: the system CAs).'),
    tlsName: z.string().optional().describe('verify/secure: the name the next hop certificate must carry (default: the host dialled).'),
    mtaSts: z.boolean().optional().describe("mx: honour the recipient domain's MTA-STS policy (RFC 8461; default on): enforce skips MX hosts it does not list and verifies TLS."),
    clientCertFile: z.string().optional().describe('PEM certificate to present to the next hop (connector match by certificate).'),
    clientKeyFile: z.string().optional().describe('PEM key for clientCertFile.'),
    pickupDir: z
      .string()
      .default('pickup')
      .describe('pickup: folder for one .eml per message, relative to the data dir and confined to it; a folder elsewhere must be absolute, with pickupOutsideDataDir.'),
    pickupOutsideDataDir: z.boolean().optional().describe('pickup: allow an absolute pickupDir outside the data dir, e.g. a group-readable folder (default false).'),
    pickupFileMode: z
      .string()
      .regex(/^0?[0-7]{3}$/, 'an octal file mode such as 0600 or 0640')
      .optional()
      .describe("pickup: mode of each .eml file (default 0600); 0640 lets the folder's group read them (give the folder that group and the setgid bit)."),
    oauth2: routeOAuth2Schema.optional().describe('smtp: submit with SASL XOAUTH2 (Exchange Online client submission) using a client-credentials token.'),
  })
  .strict()
  .superRefine((r, ctx) => {
    const problem = confinedDirProblem(r.pickupDir, r.pickupOutsideDataDir === true, 'pickupOutsideDataDir');
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['pickupDir'] });
  })
  .refine((r) => r.type !== 'smtp' || (r.host !== undefined && r.host !== ''), { message: 'an smtp route needs host', path: ['host'] })
  .refine((r) => !r.oauth2 || r.type === 'smtp', { message: 'oauth2 needs an smtp route', path: ['oauth2'] })
  // A bearer token must not cross the network in clear text; loopback (a local test hop) excepted.
  .refine((r) => !r.oauth2 || r.tls !== 'none' || /^(127\.|::1$|localhost$)/.test(r.host ?? ''), { message: 'oauth2 needs tls other than none (a token must not go in clear text)', path: ['tls'] });

export const userSchema = z
  .object({
    name: z.string().min(1).describe('SMTP AUTH user name.'),
    passwordHash: z.string().regex(/^scrypt\$/, 'must be a scrypt hash made by `mailgate user add`').describe('scrypt$N$r$p$salt$hash'),
    sendAs: z.array(z.string()).default([]).describe('Addresses or "@domain" the user may use as MAIL FROM; empty = its own name if that is an address, "*" = any.'),
  })
  .strict();

export const queueSchema = z
  .object({
    retryInitialSeconds: z.number().positive().default(60).describe('First retry delay after a 4xx or connection error.'),
    retryMaxSeconds: z.number().positive().default(3600).describe('Upper bound of the exponential backoff.'),
    maxAgeSeconds: z.number().positive().default(172_800).describe('Give up and bounce after this long (default 2 days).'),
    activeWindow: z.number().int().positive().default(100).describe('Messages being delivered at once.'),
    keepFinalHours: z
      .number()
      .positive()
      .default(24)
      .describe('Delivered and bounced messages leave the queue index this long after their last attempt (their history stays in the trace).'),
    minFreeMegabytes: z
      .number()
      .min(0)
      .default(100)
      .describe('Free space the data dir must keep: below it MAIL FROM gets 452 4.3.1 (Postfix queue_minfree). 0 = no check.'),
  })
  .strict();

export const authThrottleSchema = z
  .object({
    ipFailures: z.number().int().min(0).default(5).describe('Failed SMTP AUTH attempts from one client IP within windowSeconds before it is locked out (454 4.7.0). 0 = no limit.'),
    userFailures: z
      .number()
      .int()
      .min(0)
      .default(50)
      .describe('Failed attempts for one user name (from any IP) within windowSeconds before the name is locked out; IPs it logged in from before stay allowed. 0 = no limit.'),
    windowSeconds: z.number().int().positive().default(300).describe('The window failures are counted in.'),
    lockoutSeconds: z.number().int().positive().default(900).describe('How long a lockout lasts; an IP locked again within a day waits twice as long each time (up to 16 times).'),
  })
  .strict();

export const traceSchema = z
  .object({
    retentionDays: z.number().int().positive().default(90).describe('Trace rows older than this are deleted.'),
  })
  .strict();

/** Plain HTTP is only for loopback: anywhere else the admin listener speaks HTTPS. */
export const dnsSchema = z
  .object({
    servers: z.array(z.string()).default([]).describe('DNS servers ("ip" or "ip:port"); empty = the system resolvers.'),
    timeoutMs: z.number().int().positive().default(2000).describe('Per-query timeout.'),
    tries: z.number().int().positive().default(2).describe('Rounds over the server list before a query fails (temperror).'),
    cacheEntries: z.number().int().positive().default(10_000).describe('Answers kept in the TTL-respecting cache.'),
    negativeTtlSeconds: z.number().int().positive().default(300).describe('Cap on how long NXDOMAIN/NODATA answers are cached (RFC 2308).'),
  })
  .strict();

export const authenticationSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Evaluate SPF, DKIM, DMARC and ARC for every anonymous message.'),
    deadlineMs: z.number().int().positive().default(8000).describe('Longest the checks may take per message; past it the results are temperror.'),
    maxDkimSignatures: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(5)
      .describe('DKIM signatures verified per message, those aligned with the From domain first; the rest are traced as not checked (no DNS lookup).'),
  })
  .strict();

export const configSchema = z
  .object({
    organization: organizationSchema.default({
      name: 'example.com',
      rejectDirectSend: false,
      rejectDirectSendHeaderFrom: false,
      hostname: '',
      honorDmarcPolicy: true,
      authservId: '',
      hopCountLimit: 50,
    }),
    dns: dnsSchema.default({ servers: [], timeoutMs: 2000, tries: 2, cacheEntries: 10_000, negativeTtlSeconds: 300 }),
    authentication: authenticationSchema.default({ enabled: true, deadlineMs: 8000, maxDkimSignatures: 5 }),
    acceptedDomains: z.array(acceptedDomainSchema).default([]),
    inboundConnectors: z.array(inboundConnectorSchema).default([]),
    receiveConnectors: z.array(receiveConnectorSchema).default([]),
    lists: z
      .object({ allow: listSchema.default({ ips: [], senderDomains: [] }), block: listSchema.default({ ips: [], senderDomains: [] }) })
      .strict()
      .default({ allow: { ips: [], senderDomains: [] }, block: { ips: [], senderDomains: [] } }),
    routes: z.array(routeSchema).default([]),
    users: z.array(userSchema).default([]),
    queue: queueSchema.default({ retryInitialSeconds: 60, retryMaxSeconds: 3600, maxAgeSeconds: 172_800, activeWindow: 100, keepFinalHours: 24, minFreeMegabytes: 100 }),
    authThrottle: authThrottleSchema.default({ ipFailures: 5, userFailures: 50, windowSeconds: 300, lockoutSeconds: 900 }),
    trace: traceSchema.default({ retentionDays: 90 }),
    admin: adminSchema.default({ enabled: true, bind: '127.0.0.1:8025' }),
    metrics: metricsSchema.default({ public: false }),
    alerts: alertsSchema.default({
      enabled: true,
      intervalSeconds: 60,
      renotifyMinutes: 1440,
      learningDays: 7,
      connectorSilentDays: 3,
      queueAgeSeconds: 3600,
      deferredCount: 100,
      certExpiryDays: [30, 7, 1],
      staleAllowDays: 30,
      rejectionSpike: { factor: 3, minCount: 20 },
      webhooks: [],
    }),
    egress: egressSchema.default({
      internalRanges: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
      relayAddresses: [],
      exceptions: [],
      blockedPorts: [25, 465, 587],
      log: true,
      action: 'reject',
      insideInterface: 'inside',
      outsideInterface: 'outside',
    }),
    transportRules: z.array(transportRuleSchema).default([]).describe('Mail flow (transport) rules, evaluated at end of DATA in priority order.'),
    quarantine: quarantineSchema.default({ retentionDays: 30, notify: 'off', notifyFrom: '', approvers: [] }),
    nodes: z.array(nodeEntrySchema).default([]).describe('Per-node settings of a fleet (several `mailgate serve --node NAME` on one shared store).'),
  })
  .strict();

/** The validated model, all defaults filled in. */
export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type InboundConnector = z.infer<typeof inboundConnectorSchema>;
export type ReceiveConnector = z.infer<typeof receiveConnectorSchema>;
export type AcceptedDomain = z.infer<typeof acceptedDomainSchema>;
export type Route = z.infer<typeof routeSchema>;
export type User = z.infer<typeof userSchema>;
export type Egress = z.infer<typeof egressSchema>;
export type EgressException = z.infer<typeof egressExceptionSchema>;
export type AuthThrottleSettings = z.infer<typeof authThrottleSchema>;
export type AdminSettings = z.infer<typeof adminSchema>;
export type { TransportRule } from './schema-rules.ts';
export type { NodeEntry } from './schema-nodes.ts';
export type QuarantineSettings = z.infer<typeof quarantineSchema>;
export type AlertSettings = z.infer<typeof alertsSchema>;
