/**
 * @module config/schema-rules
 * The zod schema of transport rules (Exchange Online mail flow rules, reference §8): conditions and
 * exceptions (the ExceptIf… twins), actions, mode Enforce | Audit | AuditAndNotify, state, priority,
 * activation/expiry. Kept apart from schema.ts (which includes it as `transportRules`) so both stay
 * small. Policy compiles the rules (policy/rules/compile.ts) into matchers at load.
 * Touches: nothing.
 */
import { z } from 'zod';
import { parseCidr } from '../core/cidr.ts';

// The same checks as schema.ts's domainName and ipOrCidr (not exported there, to keep that file's hunks small).
const domainName = z
  .string()
  .min(1)
  .regex(/^(\*\.)?[A-Za-z0-9\u00a0-\uffff]([A-Za-z0-9\u00a0-\uffff.-]*[A-Za-z0-9\u00a0-\uffff])?\.?$/, 'not a domain name');
const ipOrCidr = z.string().superRefine((s, ctx) => {
  try {
    parseCidr(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

const ruleText = z.string().max(1024).regex(/^[^\u0000-\u001f\u007f]*$/, 'one line of text without control characters');
const ruleWords = z.array(z.string().min(1).max(256).regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters')).min(1);
const ruleAddress = z.string().regex(/^[^\s@<>"(),;:]+@[A-Za-z0-9\u00a0-\uffff.-]+$/, 'an email address (local@domain)');
const headerName = z.string().regex(/^[!-9;-~]{1,76}$/, 'a header field name (printable ASCII, no colon, RFC 5322 §2.2)');
const scopeEnum = z.enum(['InOrganization', 'NotInOrganization']);

export const transportRuleConditionsSchema = z
  .object({
    fromScope: scopeEnum.optional().describe('InOrganization: authenticated (or OnPremises-connector) mail from an accepted domain; NotInOrganization: everything else.'),
    sentToScope: scopeEnum.optional().describe('Any recipient inside (accepted domain) or outside the organization.'),
    senderDomainIs: z.array(domainName).min(1).optional().describe('Sender domain or a subdomain; the address read follows senderAddressLocation.'),
    fromAddressContainsWords: ruleWords.optional().describe('Words found in the sender address (case-insensitive); follows senderAddressLocation.'),
    senderIpRanges: z.array(ipOrCidr).min(1).optional().describe('Client IP (the last hop) in one of these IPs/CIDRs.'),
    recipientDomainIs: z.array(domainName).min(1).optional().describe('Any recipient in one of these domains or their subdomains.'),
    headerContainsWords: z.object({ header: headerName.describe('Header field name.'), words: ruleWords.describe('Words or phrases (case-insensitive).') }).strict().optional().describe('Words in the named header (any of its fields).'),
    headerMatchesPatterns: z
      .object({ header: headerName.describe('Header field name.'), patterns: z.array(z.string().min(1)).min(1).describe('Regular expressions (at most 256 characters; no backreferences, lookaround or nested quantifiers).') })
      .strict()
      .optional()
      .describe('Regular expressions (case-insensitive) on the named header; refused at load when invalid or able to backtrack exponentially.'),
    subjectOrBodyContainsWords: ruleWords.optional().describe('Words in the subject or the text parts of the body (the first 1 MiB of decoded text is scanned).'),
    attachmentExtensionMatchesWords: ruleWords.optional().describe('File name extensions of attachments (without the dot).'),
    messageSizeOver: z.number().int().min(0).optional().describe('Message size in bytes greater than this.'),
    attributionIs: z.array(z.enum(['direct-send', 'connector', 'authenticated', 'anonymous-external'])).min(1).optional().describe("mailgate's attribution of the message."),
    connectorIs: z.array(z.string().min(1)).min(1).optional().describe('Inbound connector name(s) the message matched; "none" = no connector.'),
    spf: ruleWords.optional().describe('SPF result words (pass, fail, softfail, neutral, none, temperror, permerror).'),
    dkim: ruleWords.optional().describe('DKIM result words (any signature): pass, fail, none, …'),
    dmarc: ruleWords.optional().describe('DMARC result words: pass, fail, none, temperror, permerror.'),
    compauth: ruleWords.optional().describe('Composite authentication result words: pass, fail, softpass, none.'),
    spoofSuspect: z.boolean().optional().describe('SPF, DKIM and DMARC all failed.'),
  })
  .strict();

export const transportRuleActionsSchema = z
  .object({
    rejectMessage: z
      .object({
        enhancedStatusCode: z.string().regex(/^5\.7\.(1|9\d\d)$/, 'Exchange allows 5.7.1 or 5.7.900–5.7.999').default('5.7.1').describe('Enhanced status code: 5.7.1 or 5.7.900–5.7.999.'),
        reasonText: ruleText.min(1).default('Delivery not authorized, message refused').describe('Reply text (Exchange default).'),
      })
      .strict()
      .optional()
      .describe('Refuse the message at end of DATA (550 with this enhanced code and text; no bounce is generated).'),
    quarantine: z.boolean().optional().describe('Hold the message in quarantine (rule processing stops).'),
    deleteMessage: z.boolean().optional().describe('Accept (250) and drop silently, traced.'),
    redirectMessageTo: z.array(ruleAddress).min(1).optional().describe('Replace the recipients with these.'),
    blindCopyTo: z.array(ruleAddress).min(1).optional().describe('Add these as hidden recipients.'),
    addToRecipients: z.array(ruleAddress).min(1).optional().describe('Add these recipients (envelope).'),
    prependSubject: ruleText.min(1).max(200).optional().describe('Text put before the subject (end it with ": " or a space).'),
    setHeader: z.object({ name: headerName.describe('Header field name.'), value: ruleText.describe('Header field value (one line).') }).strict().optional().describe('Add or overwrite a header field.'),
    removeHeader: headerName.optional().describe('Remove every field of this header.'),
    setScl: z.number().int().min(-1).max(9).optional().describe('Write X-MS-Exchange-Organization-SCL (-1 = bypass request, 5-6 spam, 9 high confidence) for the next hop.'),
    applyHtmlDisclaimer: z
      .object({ text: ruleText.min(1).max(500).describe('Banner text (plain text; HTML-escaped in HTML parts).') })
      .strict()
      .optional()
      .describe('The external-sender banner: this text at the top of the first text/html and text/plain parts as the message leaves (Exchange ApplyHtmlDisclaimer, location Prepend).'),
    generateIncidentReport: ruleAddress.optional().describe('Send an incident report (rule, and the message headers) to this address; also in the audit modes.'),
  })
  .strict();

export const transportRuleSchema = z
  .object({
    name: z.string().min(1).max(64).regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters').describe('Rule name (unique).'),
    priority: z.number().int().min(0).describe('0 runs first; unique and contiguous from 0, as in Exchange.'),
    state: z.enum(['Enabled', 'Disabled']).default('Enabled').describe('Enabled or Disabled.'),
    mode: z
      .enum(['Enforce', 'Audit', 'AuditAndNotify'])
      .default('Enforce')
      .describe('Enforce; Audit: only trace the hit (and send incident reports); AuditAndNotify: also notify.'),
    senderAddressLocation: z.enum(['Header', 'Envelope', 'HeaderOrEnvelope']).default('Header').describe('Which sender address sender conditions read: Header (From, the Exchange default), Envelope (MAIL FROM), or either.'),
    conditions: transportRuleConditionsSchema.default({}).describe('All must match; none = every message.'),
    exceptions: transportRuleConditionsSchema.default({}).describe("Exchange's ExceptIf… twins: any one matching exempts the message."),
    actions: transportRuleActionsSchema.describe('What the rule does (in the audit modes only incident reports run).'),
    stopRuleProcessing: z.boolean().default(false).describe('Do not evaluate later rules (Enforce only).'),
    comment: z.string().max(1024).default('').describe('Free text.'),
    activationDate: z.string().datetime({ offset: true }).optional().describe('ISO 8601 time before which the rule does nothing.'),
    expiryDate: z.string().datetime({ offset: true }).optional().describe('ISO 8601 time from which the rule does nothing.'),
  })
  .strict();

export type TransportRule = z.infer<typeof transportRuleSchema>;
