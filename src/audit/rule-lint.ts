/**
 * @module audit/rule-lint
 * The transport-rule linter: the mistakes seen in real tenants' Direct Send rules (reference §5.5
 * "lint targets", §8), as a typed table of checks and a pure function from rules to findings:
 * - `audit-mode-action`: a rule in `Audit`/`AuditAndNotify` mode with actions that affect delivery
 *   (PrependSubject, BCC, Quarantine, Redirect, Reject, Delete, SetSCL …): in both audit modes
 *   none of them runs, only incident reports (and notifications) do (§5.5, §8.1);
 * - `sender-header-not-envelope`: `SenderDomainIs` of a tenant domain read from the From header
 *   (`SenderAddressLocation Header`, the default) where the envelope is meant: RejectDirectSend
 *   and Direct Send are decided on MAIL FROM (P1), so a P1 spoof with another From passes (§1.2, §8.2);
 * - `scl-bypass`: `SetSCL -1` skips spam and phishing filtering for whatever the rule matches —
 *   for a sender domain, anyone who writes that domain (Maester MT.1043; §8.3);
 * - `disabled-relied-on`: a disabled rule that quarantines, redirects or rejects mail from
 *   unapproved sources (the monitoring rule the staged plan relies on) does nothing.
 * The input is the tenant model's rule shape, so mailgate's own rules can be linted the same way.
 * Touches: nothing (pure).
 */
import { isSubdomainOf } from '../core/address.ts';
import type { TenantTransportRule } from './tenant-model.ts';

export type LintCode = 'audit-mode-action' | 'sender-header-not-envelope' | 'scl-bypass' | 'disabled-relied-on';
export type LintSeverity = 'error' | 'warning';

/** The checks: what each finding means and where the fact comes from. */
export const LINT_CHECKS: Readonly<Record<LintCode, { severity: LintSeverity; title: string; reference: string }>> = {
  'audit-mode-action': { severity: 'warning', title: 'actions that do nothing in Audit/AuditAndNotify mode', reference: 'exchange-online.md §5.5, §8.1' },
  'sender-header-not-envelope': { severity: 'error', title: 'SenderDomainIs reads the From header where the envelope (P1) is meant', reference: 'exchange-online.md §1.2, §5.5, §8.2' },
  'scl-bypass': { severity: 'error', title: 'SetSCL -1 bypasses spam and phishing filtering', reference: 'exchange-online.md §5.5 (Maester MT.1043), §8.3' },
  'disabled-relied-on': { severity: 'warning', title: 'a disabled rule that should stop unapproved sources', reference: 'exchange-online.md §1.4, §8.4' },
};

export interface LintFinding {
  code: LintCode;
  severity: LintSeverity;
  rule: string;
  priority: number | null;
  message: string;
  /** The PowerShell that fixes it (or a comment saying what to do). */
  fix: string;
}

/** The rule fields the linter reads. */
export type LintableRule = Pick<
  TenantTransportRule,
  'name' | 'priority' | 'mode' | 'enabled' | 'actions' | 'fromScope' | 'senderDomainIs' | 'senderAddressLocation' | 'exceptIfSenderIpRanges' | 'setScl' | 'quarantine' | 'redirectMessageTo' | 'rejectMessageReasonText' | 'deleteMessage'
>;

/** Actions that never change delivery: they are the only ones that run in the audit modes. */
const REPORT_ONLY = new Set(['GenerateIncidentReportAction', 'GenerateNotificationAction', 'SetAuditSeverityAction', 'StopRuleProcessingAction']);

/** PowerShell single-quoted string (rule names are the tenant's text). */
function psq(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function actionLabel(a: string): string {
  return a.replace(/Action$/, '').replace(/^BlindCopyTo$/, 'BCC (BlindCopyTo)');
}

function stopsUnapproved(r: LintableRule, tenant: readonly string[]): boolean {
  const stops = r.quarantine || r.redirectMessageTo.length > 0 || r.rejectMessageReasonText !== null || r.deleteMessage || r.actions.some((a) => /^(Quarantine|RedirectMessage|RejectMessage|DeleteMessage)Action$/.test(a));
  if (!stops) return false;
  const ownDomain = r.senderDomainIs.some((d) => tenant.length === 0 || tenant.some((t) => isSubdomainOf(d, t)));
  return (r.fromScope === 'NotInOrganization' && ownDomain) || r.exceptIfSenderIpRanges.length > 0;
}

/** Lint every rule; `tenantDomains` are the accepted domains (empty: every SenderDomainIs counts as the tenant's). */
export function lintRules(rules: readonly LintableRule[], tenantDomains: readonly string[]): LintFinding[] {
  const out: LintFinding[] = [];
  const add = (r: LintableRule, code: LintCode, message: string, fix: string): void => {
    out.push({ code, severity: LINT_CHECKS[code].severity, rule: r.name, priority: r.priority, message, fix });
  };
  for (const r of rules) {
    const id = psq(r.name);
    const acting = r.actions.filter((a) => !REPORT_ONLY.has(a));
    if (r.mode !== 'Enforce' && acting.length > 0) {
      add(
        r,
        'audit-mode-action',
        `Mode ${r.mode}: ${acting.map(actionLabel).join(', ')} never run in this mode (only incident reports${r.mode === 'AuditAndNotify' ? ' and notifications' : ''} do); no subject is tagged, no copy sent, nothing quarantined — look for the rule's hits in the message trace (custom_data S:TRA=ETR|ruleId=…|mode=${r.mode}) instead`,
        `Set-TransportRule -Identity ${id} -Mode Enforce   # only once the hits in the message trace show it matches what you expect`,
      );
    }
    const own = r.senderDomainIs.filter((d) => tenantDomains.length === 0 || tenantDomains.some((t) => isSubdomainOf(d, t)));
    if (own.length > 0 && r.senderAddressLocation === 'Header') {
      add(
        r,
        'sender-header-not-envelope',
        `SenderDomainIs ${own.join(', ')} is checked in the From header (SenderAddressLocation Header, the default), but Direct Send and RejectDirectSend are decided on the envelope sender (MAIL FROM, P1): mail with MAIL FROM in ${own.join(', ')} and another From header passes this rule`,
        `Set-TransportRule -Identity ${id} -SenderAddressLocation HeaderOrEnvelope`,
      );
    }
    if (r.setScl === -1) {
      const what = r.senderDomainIs.length ? `anyone who sends as ${r.senderDomainIs.join(', ')} (a spoofer included)` : 'every message it matches';
      add(
        r,
        'scl-bypass',
        `SetSCL -1 makes spam and phishing filtering skip ${what}`,
        `Disable-TransportRule -Identity ${id}   # give the legitimate source an inbound connector (IP or certificate) instead, then Remove-TransportRule -Identity ${id}`,
      );
    }
    if (!r.enabled && stopsUnapproved(r, tenantDomains)) {
      add(
        r,
        'disabled-relied-on',
        'is disabled: it stops nothing from unapproved sources, and the plan\'s monitoring step relies on a rule like it',
        `Enable-TransportRule -Identity ${id}`,
      );
    }
  }
  return out;
}
