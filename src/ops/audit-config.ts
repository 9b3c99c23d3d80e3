/**
 * @module ops/audit-config
 * The tenant's own configuration in the audit: import Get-AcceptedDomain / Get-InboundConnector /
 * Get-OutboundConnector / Get-OrganizationConfig / Get-TransportRule output (ConvertTo-Json
 * -Depth 5) as a named tenant; lint its transport rules (findings are advice, not failures); and
 * mirror it as a mailgate configuration — the one in force with the tenant's accepted domains,
 * inbound connectors and RejectDirectSend — validated before it is handed back.
 * Touches: the given files (read), the audit_tenant_config table, the trace (which import names
 * exist), the configuration store (read).
 */
import { LINT_CHECKS, lintRules, mirrorTenant, readTenantFile, resolveTenant, saveTenantConfig, TenantConfigRefused, type LintFinding, type TenantConfig, type TenantFileSummary } from '../audit/index.ts';
import { configErrorLines, ConfigError, validateConfig, type Config } from '../config/index.ts';
import type { Db } from '../core/sqlite.ts';
import { tenantDomainsOf, tenantOf } from './audit.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';

const NAME = /^[A-Za-z0-9._-]+$/;

const FILE_KEY = { 'accepted-domain': 'acceptedDomains', 'inbound-connector': 'inboundConnectors', 'outbound-connector': 'outboundConnectors', organization: 'organization', 'transport-rule': 'transportRules' } as const;

/** The import name when exactly one import is in the trace. */
function onlyImportName(db: Db): string | undefined {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'trace_message'").get();
  if (!has) return undefined;
  const rows = db.prepare('SELECT DISTINCT import_name AS n FROM trace_message WHERE import_name IS NOT NULL LIMIT 2').all() as { n: string }[];
  return rows.length === 1 ? rows[0]?.n : undefined;
}

export interface TenantImport {
  name: string;
  files: TenantFileSummary[];
  tenant: TenantConfig;
  /** Transport-rule findings, when Get-TransportRule output was among the files. */
  findings?: number | undefined;
}

/**
 * Store the tenant's cmdlet output as tenant `tenant` (default: the name of the only import,
 * else "default"); a file of no known cmdlet is refused (`conflict`), a missing one `not-found`.
 */
export async function importTenantConfig(ctx: OpsContext, files: readonly string[], tenant?: string): Promise<TenantImport> {
  if (tenant !== undefined && !NAME.test(tenant)) throw new OpsError('invalid', `--tenant must be letters, digits, ".", "_" or "-" (got "${tenant}")`);
  const name = tenant ?? onlyImportName(ctx.db) ?? 'default';
  const t: TenantConfig = { name };
  const sums: TenantFileSummary[] = [];
  const from: Record<string, string> = {};
  for (const f of files) {
    try {
      const s = readTenantFile(f, t);
      sums.push(s);
      from[FILE_KEY[s.kind]] = f;
    } catch (e) {
      if (e instanceof TenantConfigRefused) throw new OpsError('conflict', e.message);
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new OpsError('not-found', `${f}: no such file`);
      throw e;
    }
  }
  saveTenantConfig(ctx.db, t, from);
  const findings = t.transportRules ? lintRules(t.transportRules, tenantDomainsOf(resolveTenant(ctx.db, name))).length : undefined;
  return { name, files: sums, tenant: t, findings };
}

function requireTenant(ctx: OpsContext, given: string | undefined): TenantConfig {
  const t = tenantOf(ctx.db, given);
  if (!t) throw new OpsError('not-found', 'no tenant configuration imported: run mailgate audit import-config FILE… first (README: "The tenant\'s own configuration")');
  return t;
}

/** The tenant's transport-rule findings, each with its check's title. */
export async function lintTenant(ctx: OpsContext, tenant?: string): Promise<{ tenant: string; rules: number; findings: (LintFinding & { title: string })[] }> {
  const t = requireTenant(ctx, tenant);
  if (!t.transportRules) throw new OpsError('not-found', `tenant "${t.name}" has no Get-TransportRule output imported: Get-TransportRule | ConvertTo-Json -Depth 5 | Out-File rules.json, then mailgate audit import-config --tenant ${t.name} rules.json`);
  const findings = lintRules(t.transportRules, tenantDomainsOf(t)).map((f) => ({ ...f, title: LINT_CHECKS[f.code].title }));
  return { tenant: t.name, rules: t.transportRules.length, findings };
}

/** The tenant mirrored over the configuration in force, validated; what could not be mirrored, said. */
export async function mirrorTenantConfig(ctx: OpsContext, tenant?: string): Promise<{ tenant: string; config: Config; notMirrored: string[] }> {
  const t = requireTenant(ctx, tenant);
  const m = mirrorTenant(t);
  const base = structuredClone((await ctx.store.current())?.config as Config);
  const merged = {
    ...base,
    organization: { ...base.organization, ...m.config.organization },
    acceptedDomains: m.config.acceptedDomains ?? base.acceptedDomains,
    inboundConnectors: m.config.inboundConnectors ?? base.inboundConnectors,
  };
  try {
    return { tenant: t.name, config: validateConfig(merged), notMirrored: m.notMirrored };
  } catch (e) {
    if (e instanceof ConfigError) throw new OpsError('conflict', `the mirrored configuration is not valid:\n${configErrorLines(e).join('\n')}`);
    throw e;
  }
}
