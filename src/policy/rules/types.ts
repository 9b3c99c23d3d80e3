/**
 * @module policy/rules/types
 * The vocabulary of transport rules (Exchange Online mail flow rules, reference §8): the rule as the
 * configuration holds it (RuleSpec, structurally the zod output of config/schema's transportRules,
 * so policy needs nothing from config), the compiled rule (matchers built once per config version),
 * the message facts a rule is judged on (RuleMessage: `undefined` = not known, e.g. in a replay over
 * trace rows), and what evaluation returns (RuleOutcome: hits, the effect to apply, what could not be
 * judged).
 * Touches: nothing.
 */
import type { CidrMatcher } from '../../core/cidr.ts';
import type { Attribution } from '../types.ts';

export type RuleMode = 'Enforce' | 'Audit' | 'AuditAndNotify';
export type RuleState = 'Enabled' | 'Disabled';
export type Scope = 'InOrganization' | 'NotInOrganization';
export type SenderAddressLocation = 'Header' | 'Envelope' | 'HeaderOrEnvelope';
export type AttributionName = 'direct-send' | 'connector' | 'authenticated' | 'anonymous-external';

/** Conditions (and, with the same shape, exceptions: Exchange's ExceptIf… twins). All given must match. */
export interface RuleConditionsSpec {
  fromScope?: Scope | undefined;
  sentToScope?: Scope | undefined;
  senderDomainIs?: readonly string[] | undefined;
  fromAddressContainsWords?: readonly string[] | undefined;
  senderIpRanges?: readonly string[] | undefined;
  recipientDomainIs?: readonly string[] | undefined;
  headerContainsWords?: { header: string; words: readonly string[] } | undefined;
  headerMatchesPatterns?: { header: string; patterns: readonly string[] } | undefined;
  subjectOrBodyContainsWords?: readonly string[] | undefined;
  attachmentExtensionMatchesWords?: readonly string[] | undefined;
  messageSizeOver?: number | undefined;
  attributionIs?: readonly AttributionName[] | undefined;
  connectorIs?: readonly string[] | undefined;
  spf?: readonly string[] | undefined;
  dkim?: readonly string[] | undefined;
  dmarc?: readonly string[] | undefined;
  compauth?: readonly string[] | undefined;
  spoofSuspect?: boolean | undefined;
}

export interface RuleActionsSpec {
  rejectMessage?: { enhancedStatusCode: string; reasonText: string } | undefined;
  quarantine?: boolean | undefined;
  deleteMessage?: boolean | undefined;
  redirectMessageTo?: readonly string[] | undefined;
  blindCopyTo?: readonly string[] | undefined;
  addToRecipients?: readonly string[] | undefined;
  prependSubject?: string | undefined;
  setHeader?: { name: string; value: string } | undefined;
  removeHeader?: string | undefined;
  setScl?: number | undefined;
  applyHtmlDisclaimer?: { text: string } | undefined;
  generateIncidentReport?: string | undefined;
}

/** A rule as configured (config/schema transportRules[i], defaults filled in). */
export interface RuleSpec {
  name: string;
  priority: number;
  state: RuleState;
  mode: RuleMode;
  senderAddressLocation: SenderAddressLocation;
  conditions: RuleConditionsSpec;
  exceptions: RuleConditionsSpec;
  actions: RuleActionsSpec;
  stopRuleProcessing: boolean;
  comment: string;
  activationDate?: string | undefined;
  expiryDate?: string | undefined;
}

/** Every action name, in the order they are reported. */
export const ACTION_NAMES = [
  'rejectMessage',
  'quarantine',
  'deleteMessage',
  'redirectMessageTo',
  'blindCopyTo',
  'addToRecipients',
  'prependSubject',
  'setHeader',
  'removeHeader',
  'setScl',
  'applyHtmlDisclaimer',
  'generateIncidentReport',
] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

/** Actions that never change delivery: the only ones that run in Audit and AuditAndNotify (§5.5, §8.1). */
export const REPORT_ONLY_ACTIONS: ReadonlySet<ActionName> = new Set<ActionName>(['generateIncidentReport']);

/** One condition, compiled: true / false, or undefined when the facts it needs are not known. */
export type Predicate = (m: RuleMessage, ctx: RuleContext) => boolean | undefined;

export interface CompiledCondition {
  name: keyof RuleConditionsSpec;
  test: Predicate;
  /** Needs the message body (text parts or attachment names): only then is the body scanned. */
  needsBody: boolean;
  needsHeaders: boolean;
}

export interface CompiledRule {
  spec: RuleSpec;
  enabled: boolean;
  /** ms since the epoch, or undefined. */
  activation: number | undefined;
  expiry: number | undefined;
  conditions: readonly CompiledCondition[];
  exceptions: readonly CompiledCondition[];
  actions: readonly ActionName[];
}

export interface CompiledRules {
  /** Sorted by priority (0 first). */
  rules: readonly CompiledRule[];
  /** An enabled rule needs the body: scan it (up to the cap) at end of DATA. */
  needsBody: boolean;
  /** An enabled rule reads a header other than From/Subject. */
  needsHeaders: boolean;
}

/** What the accepted-domain test needs (the policy snapshot provides it). */
export interface RuleContext {
  isAcceptedDomain(domain: string): boolean;
}

/** The facts a rule is judged on. `undefined` = not known (the condition is reported, not guessed). */
export interface RuleMessage {
  mailFrom: string;
  headerFrom?: string | undefined;
  recipients: readonly string[];
  clientIp: string;
  attribution: Attribution;
  /** All header fields, names lower-case, values unfolded; undefined when not known. */
  headers?: ReadonlyArray<readonly [string, string]> | undefined;
  subject?: string | undefined;
  /** Decoded text of the text parts (lower-cased, at most the scan cap); undefined when not scanned. */
  bodyText?: string | undefined;
  /** File names of the attachments (lower-cased); undefined when not scanned. */
  attachments?: readonly string[] | undefined;
  size?: number | undefined;
  auth?: { spf?: string | undefined; dkim?: string | undefined; dmarc?: string | undefined; compauth?: string | undefined; spoofSuspect?: boolean | undefined } | undefined;
  /** ms since the epoch (activation/expiry). */
  now: number;
}

/** A rule that matched. */
export interface RuleHit {
  rule: string;
  priority: number;
  mode: RuleMode;
  /** Every action of the rule. */
  actions: readonly ActionName[];
  /** The actions that ran: all in Enforce; only the report-only ones in the audit modes. */
  applied: readonly ActionName[];
}

export type HeaderEdit = { op: 'set'; name: string; value: string } | { op: 'remove'; name: string } | { op: 'prepend-subject'; text: string };

/** The combined effect of the rules that ran, to be applied by smtp/ (and reported by what-if). */
export interface RuleEffect {
  reject?: { rule: string; enhanced: string; text: string } | undefined;
  quarantine?: { rule: string } | undefined;
  delete?: { rule: string } | undefined;
  /** Replaces the recipients (redirect): undefined = unchanged. */
  redirectTo?: readonly string[] | undefined;
  /** Recipients added (bcc and addToRecipients; addToRecipients also shows in no header here). */
  addRecipients: readonly string[];
  headerEdits: readonly HeaderEdit[];
  scl?: number | undefined;
  /** The external-sender banner put at the top of the body (the first rule's). */
  disclaimer?: string | undefined;
  incidentReports: ReadonlyArray<{ rule: string; to: string }>;
  /** AuditAndNotify rules that matched (the notification is sent for each). */
  notify: readonly string[];
}

export interface RuleOutcome {
  hits: readonly RuleHit[];
  effect: RuleEffect;
  /** Rules that could not be judged, with the conditions that lacked facts ("rule: headerContainsWords"). */
  undetermined: readonly string[];
}
