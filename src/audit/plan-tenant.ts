/**
 * @module audit/plan-tenant
 * What the tenant's own configuration (audit import-config) changes in the migration plan, kept
 * apart from the plan's construction: the sources an existing inbound connector already covers
 * (audit/tenant-cover) are not planned again and are said to be covered, by which connector and
 * entry; their IPs still count as authorised (the monitoring rule must not quarantine them); the
 * tenant's current RejectDirectSend is stated; and the transport-rule lint findings are listed.
 * Touches: nothing (pure).
 */
import { plainIp, type DirectSendSource } from '../trace/reports/index.ts';
import { lintRules } from './rule-lint.ts';
import { coveredBy, type Coverage } from './tenant-cover.ts';
import type { TenantConfig } from './tenant-model.ts';

export interface TenantPlanView {
  /** Sources no existing connector covers (the plan works on these). */
  uncovered: DirectSendSource[];
  covered: { source: DirectSendSource; by: Coverage }[];
  /** IPs of covered sources (for the monitoring rule's exceptions). */
  coveredIps: string[];
  notes: string[];
}

/** The tenant's view of the plan's sources (module header); no tenant: everything uncovered. */
export function tenantPlanView(tenant: TenantConfig | undefined, sources: readonly DirectSendSource[], tenantDomains: readonly string[]): TenantPlanView {
  if (!tenant) return { uncovered: [...sources], covered: [], coveredIps: [], notes: [] };
  const covered: TenantPlanView['covered'] = [];
  const uncovered: DirectSendSource[] = [];
  for (const s of sources) {
    const by = coveredBy(tenant, { clientIp: plainIp(s.clientIp), senderDomain: s.senderDomain, certCn: s.certCn || undefined });
    if (by) covered.push({ source: s, by });
    else uncovered.push(s);
  }
  const notes: string[] = [];
  const rds = tenant.organization?.rejectDirectSend;
  if (tenant.organization) {
    notes.push(
      rds
        ? `Tenant "${tenant.name}": RejectDirectSend is already $true (Get-OrganizationConfig): Exchange already rejects Direct Send from every source without a connector (5.7.68).`
        : `Tenant "${tenant.name}": RejectDirectSend is currently ${rds === false ? '$false' : 'not set ($false)'} (Get-OrganizationConfig).`,
    );
  } else notes.push(`Tenant "${tenant.name}": no Get-OrganizationConfig imported, so the current RejectDirectSend is unknown.`);
  for (const c of covered) {
    notes.push(`${c.source.clientIp} (${c.source.sender}) is covered by connector "${c.by.connector}" (${c.by.connectorType}, by ${c.by.by === 'ip' ? 'IP' : 'certificate'} ${c.by.entry}): not planned again.`);
  }
  for (const f of lintRules(tenant.transportRules ?? [], tenantDomains)) {
    notes.push(`Transport rule "${f.rule}" [${f.severity} ${f.code}]: ${f.message}. Fix: ${f.fix}`);
  }
  // Names are the tenant's text: one line each, no control characters, in Markdown and HTML alike.
  const oneLine = (n: string): string => n.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return { uncovered, covered, coveredIps: [...new Set(covered.map((c) => plainIp(c.source.clientIp)))], notes: notes.map(oneLine) };
}
