/**
 * @module ops/rules
 * Transport rule administration (Exchange's Get/New/Set/Remove/Enable/Disable-TransportRule): list,
 * show, add (with Exchange's priority semantics: a new rule goes last unless a priority is given,
 * and taking a used priority shifts the others down; priorities stay contiguous from 0, §8.1), set,
 * remove, enable, disable, the `direct-send-quarantine` template (reference §8.4, created in Audit
 * mode), lint (audit/rule-lint's real-world mistakes, §5.5) and a what-if test of one message.
 * Every change is one configuration version recorded with the actor.
 * Touches: the configuration store (through OpsContext).
 */
import { ConfigError, compilePolicy, type Config, type TransportRule } from '../config/index.ts';
import { transportRuleSchema } from '../config/schema-rules.ts';
import { attribute } from '../policy/index.ts';
import { actionsOf, evaluateSnapshotRules, type RuleMessage, type RuleOutcome } from '../policy/rules/index.ts';
import { lintRules as lintTenantRules, type LintFinding } from '../audit/rule-lint.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';

export type RuleTemplate = 'direct-send-quarantine';
export const RULE_TEMPLATES: readonly RuleTemplate[] = ['direct-send-quarantine'];

/** One row of `rule list`. */
export interface RuleRow {
  priority: number;
  name: string;
  state: string;
  mode: string;
  conditions: string;
  exceptions: string;
  actions: string;
  stop: boolean;
}

async function current(ctx: OpsContext): Promise<Config> {
  const v = await ctx.store.current();
  if (!v) throw new OpsError('unavailable', `no configuration in ${ctx.dataDir} (run mailgate init)`);
  return v.config;
}

function indexOf(rules: readonly TransportRule[], name: string): number {
  const i = rules.findIndex((r) => r.name.toLowerCase() === name.toLowerCase());
  if (i < 0) throw new OpsError('not-found', `no transport rule named "${name}"`);
  return i;
}

/** Apply a change to the rules in one configuration version; config errors become OpsError('invalid'). */
async function change(ctx: OpsContext, comment: string, mutate: (rules: TransportRule[], draft: Config) => void): Promise<number> {
  try {
    return await ctx.store.update(ctx.actor, comment, (draft) => {
      mutate(draft.transportRules, draft);
      renumber(draft.transportRules);
    });
  } catch (e) {
    if (e instanceof OpsError) throw e;
    if (e instanceof ConfigError || (e as Error).name === 'ZodError' || (e as Error).name === 'ConfigError') throw new OpsError('invalid', (e as Error).message);
    throw e;
  }
}

/** Priorities contiguous from 0 in their current order. */
function renumber(rules: TransportRule[]): void {
  rules.sort((a, b) => a.priority - b.priority).forEach((r, i) => (r.priority = i));
}

/** Put `rule` at `priority` (default: last), shifting the others down (Exchange). */
function place(rules: TransportRule[], rule: TransportRule, priority: number | undefined): void {
  renumber(rules);
  const at = Math.min(priority ?? rules.length, rules.length);
  for (const r of rules) if (r.priority >= at) r.priority += 1;
  rule.priority = at;
  rules.push(rule);
}

function summary(o: Record<string, unknown>): string {
  return Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('; ');
}

export function ruleRow(r: TransportRule): RuleRow {
  return { priority: r.priority, name: r.name, state: r.state, mode: r.mode, conditions: summary(r.conditions), exceptions: summary(r.exceptions), actions: actionsOf(r.actions).join(', '), stop: r.stopRuleProcessing };
}

export async function listRules(ctx: OpsContext): Promise<RuleRow[]> {
  return [...(await current(ctx)).transportRules].sort((a, b) => a.priority - b.priority).map(ruleRow);
}

export async function showRule(ctx: OpsContext, name: string): Promise<TransportRule> {
  const rules = (await current(ctx)).transportRules;
  return rules[indexOf(rules, name)] as TransportRule;
}

/** Validate a rule given as plain data (CLI JSON/YAML, API body); priority may be left out. */
export function parseRule(input: unknown): TransportRule {
  const withPriority = { priority: 0, ...(input as Record<string, unknown>) };
  const r = transportRuleSchema.safeParse(withPriority);
  if (!r.success) throw new OpsError('invalid', r.error.issues.map((i) => `${i.path.join('.') || 'rule'}: ${i.message}`).join('; '));
  return r.data;
}

export async function addRule(ctx: OpsContext, input: unknown, priority?: number): Promise<{ version: number; rule: TransportRule }> {
  const rule = parseRule(input);
  const version = await change(ctx, `rule add ${rule.name}`, (rules) => {
    if (rules.some((r) => r.name.toLowerCase() === rule.name.toLowerCase())) throw new OpsError('conflict', `a transport rule named "${rule.name}" exists`);
    place(rules, rule, priority);
  });
  return { version, rule: await showRule(ctx, rule.name) };
}

/** Change fields of a rule (a new priority moves it, shifting the others). */
export async function setRule(ctx: OpsContext, name: string, patch: Record<string, unknown>): Promise<number> {
  return change(ctx, `rule set ${name}`, (rules) => {
    const i = indexOf(rules, name);
    const old = rules[i] as TransportRule;
    const next = parseRule({ ...old, ...patch, priority: 0 });
    rules.splice(i, 1);
    place(rules, next, patch.priority === undefined ? old.priority : Number(patch.priority));
  });
}

export async function removeRule(ctx: OpsContext, name: string): Promise<number> {
  return change(ctx, `rule remove ${name}`, (rules) => void rules.splice(indexOf(rules, name), 1));
}

export async function setRuleState(ctx: OpsContext, name: string, state: 'Enabled' | 'Disabled'): Promise<number> {
  return change(ctx, `rule ${state === 'Enabled' ? 'enable' : 'disable'} ${name}`, (rules) => {
    (rules[indexOf(rules, name)] as TransportRule).state = state;
  });
}

/**
 * Microsoft's recommended rule for mail that bypasses the expected path (reference §8.4), in Audit
 * mode: sender (From or MAIL FROM — not the header alone, §5.5) in an accepted domain, no connector
 * matched → quarantine, stop processing, priority 0; except authenticated mail (Exchange's
 * `AuthAs Internal` exception) and the listed IPs.
 */
export function templateRule(template: RuleTemplate, config: Config, exceptIps: readonly string[]): TransportRule {
  const domains = config.acceptedDomains.map((d) => d.domainName);
  if (domains.length === 0) throw new OpsError('invalid', 'the direct-send-quarantine template needs at least one accepted domain (mailgate domain add …)');
  return parseRule({
    name: 'Direct Send quarantine',
    priority: 0,
    mode: 'Audit',
    senderAddressLocation: 'HeaderOrEnvelope',
    conditions: { senderDomainIs: domains, connectorIs: ['none'] },
    exceptions: { attributionIs: ['authenticated'], ...(exceptIps.length ? { senderIpRanges: [...exceptIps] } : {}) },
    actions: { quarantine: true },
    stopRuleProcessing: true,
    comment: `template ${template}: Microsoft's rule for mail that bypasses the expected path (Exchange Online reference §8.4); review the RULE hits in the trace, then set --mode Enforce`,
  });
}

export async function addTemplateRule(ctx: OpsContext, template: RuleTemplate, exceptIps: readonly string[], name?: string): Promise<{ version: number; rule: TransportRule }> {
  const rule = templateRule(template, await current(ctx), exceptIps);
  return addRule(ctx, { ...rule, ...(name ? { name } : {}) }, 0);
}

/** The real-world mistakes of reference §5.5, over mailgate's rules (audit/rule-lint's table). */
export async function lintRules(ctx: OpsContext): Promise<LintFinding[]> {
  const config = await current(ctx);
  const actionNames: Record<string, string> = { rejectMessage: 'RejectMessageAction', quarantine: 'QuarantineAction', deleteMessage: 'DeleteMessageAction', redirectMessageTo: 'RedirectMessageAction', blindCopyTo: 'BlindCopyToAction', addToRecipients: 'AddToRecipientAction', prependSubject: 'PrependSubjectAction', setHeader: 'SetHeaderAction', removeHeader: 'RemoveHeaderAction', setScl: 'SetSclAction', applyHtmlDisclaimer: 'ApplyHtmlDisclaimerAction', generateIncidentReport: 'GenerateIncidentReportAction' };
  const findings = lintTenantRules(
    config.transportRules.map((r) => ({
      name: r.name,
      priority: r.priority,
      mode: r.mode,
      enabled: r.state === 'Enabled',
      actions: actionsOf(r.actions).map((a) => actionNames[a] ?? a),
      fromScope: r.conditions.fromScope ?? null,
      senderDomainIs: [...(r.conditions.senderDomainIs ?? [])],
      senderAddressLocation: r.senderAddressLocation,
      exceptIfSenderIpRanges: [...(r.exceptions.senderIpRanges ?? [])],
      setScl: r.actions.setScl ?? null,
      quarantine: r.actions.quarantine === true,
      redirectMessageTo: [...(r.actions.redirectMessageTo ?? [])],
      rejectMessageReasonText: r.actions.rejectMessage?.reasonText ?? null,
      deleteMessage: r.actions.deleteMessage === true,
    })),
    config.acceptedDomains.map((d) => d.domainName.toLowerCase()),
  );
  // The fixes are written for mailgate's CLI, not PowerShell.
  return findings.map((f) => ({ ...f, message: f.message.replace(/ in the message trace \(custom_data [^)]*\)/, ' in the trace (RULE events; mailgate rule replay shows what it would do)'), fix: mailgateFix(f) }));
}

function mailgateFix(f: LintFinding): string {
  const q = JSON.stringify(f.rule);
  switch (f.code) {
    case 'audit-mode-action':
      return `mailgate rule replay --since 30d (review what it would do), then mailgate rule set ${q} --mode Enforce`;
    case 'sender-header-not-envelope':
      return `mailgate rule set ${q} --sender-address-location HeaderOrEnvelope`;
    case 'scl-bypass':
      return `mailgate rule disable ${q}   # give the source an inbound connector instead`;
    case 'disabled-relied-on':
      return `mailgate rule enable ${q}`;
    default:
      return f.fix;
  }
}

/** What the message facts given would meet (what-if): attribution from the policy, then the rules. */
export interface RuleTestInput {
  clientIp: string;
  mailFrom: string;
  headerFrom?: string | undefined;
  recipients: string[];
  subject?: string | undefined;
  headers?: Array<[string, string]> | undefined;
  body?: string | undefined;
  attachments?: string[] | undefined;
  size?: number | undefined;
  authUser?: string | undefined;
  listener?: string | undefined;
  auth?: RuleMessage['auth'];
  now?: number | undefined;
}

export async function testRules(ctx: OpsContext, t: RuleTestInput): Promise<RuleOutcome & { attribution: string }> {
  const config = await current(ctx);
  const snap = compilePolicy(config, 0);
  const listener = t.listener ?? config.receiveConnectors[0]?.name ?? 'mx';
  const attribution = attribute({ listener, clientIp: t.clientIp, tls: false, authUser: t.authUser, mailFrom: t.mailFrom, rcpt: t.recipients[0] }, snap, 'rcpt');
  const out = evaluateSnapshotRules(snap, {
    mailFrom: t.mailFrom,
    headerFrom: t.headerFrom ?? t.mailFrom,
    recipients: t.recipients,
    clientIp: t.clientIp,
    attribution,
    headers: t.headers?.map(([k, v]) => [k.toLowerCase(), v] as const),
    subject: t.subject ?? '',
    bodyText: t.body?.toLowerCase(),
    attachments: t.attachments?.map((a) => a.toLowerCase()),
    size: t.size,
    auth: t.auth,
    now: t.now ?? Date.now(),
  });
  return { ...out, attribution: attribution.kind };
}
