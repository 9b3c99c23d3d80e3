/**
 * @module audit/tenant-store
 * Named tenant configurations (`audit import-config --tenant NAME`) in `audit_tenant_config`: one
 * row per tenant and kind (accepted domains, inbound connectors, outbound connectors, organization,
 * transport rules) holding the normalised model as JSON, with the file it came from and when.
 * Importing a kind again replaces it; other kinds stay. A plan over `import:NAME` finds tenant
 * NAME; with one tenant stored, every command finds it without --tenant.
 * Touches: the audit_tenant_config table.
 */
import type { Db } from '../core/sqlite.ts';
import type { TenantConfig } from './tenant-model.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_tenant_config (
  tenant TEXT NOT NULL,
  kind TEXT NOT NULL,
  data TEXT NOT NULL,
  file TEXT NOT NULL,
  imported_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, kind)
)`;

/** The model's keys, one row each. */
const KINDS = ['acceptedDomains', 'inboundConnectors', 'outboundConnectors', 'organization', 'transportRules'] as const;
type KindKey = (typeof KINDS)[number];

function tableExists(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_tenant_config'").get() !== undefined;
}

/** Store every kind present in `t` (from `files`: kind key → file name) for tenant `t.name`. */
export function saveTenantConfig(db: Db, t: TenantConfig, files: Partial<Record<KindKey, string>>, now = Date.now()): void {
  db.exec(SCHEMA);
  const put = db.prepare('INSERT INTO audit_tenant_config (tenant, kind, data, file, imported_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, kind) DO UPDATE SET data = excluded.data, file = excluded.file, imported_at = excluded.imported_at');
  db.transaction(() => {
    for (const k of KINDS) if (t[k] !== undefined) put.run(t.name, k, JSON.stringify(t[k]), files[k] ?? '', now);
  })();
}

/** The stored configuration of a tenant, or undefined when nothing was imported for it. */
export function loadTenantConfig(db: Db, name: string): TenantConfig | undefined {
  if (!tableExists(db)) return undefined;
  const rows = db.prepare('SELECT kind, data FROM audit_tenant_config WHERE tenant = ?').all(name) as { kind: string; data: string }[];
  if (rows.length === 0) return undefined;
  const t: Record<string, unknown> = { name };
  for (const r of rows) if ((KINDS as readonly string[]).includes(r.kind)) t[r.kind] = JSON.parse(r.data) as unknown;
  return t as unknown as TenantConfig;
}

/** Names of the stored tenants with what each holds. */
export function listTenantConfigs(db: Db): { tenant: string; kinds: string[]; importedAt: number }[] {
  if (!tableExists(db)) return [];
  const rows = db.prepare('SELECT tenant, group_concat(kind) AS kinds, max(imported_at) AS at FROM audit_tenant_config GROUP BY tenant ORDER BY tenant').all() as { tenant: string; kinds: string; at: number }[];
  return rows.map((r) => ({ tenant: r.tenant, kinds: r.kinds.split(','), importedAt: r.at }));
}

/**
 * The tenant a command means: `given`, else the import's name when a tenant of that name exists
 * (`import:NAME`), else the only tenant stored. Returns undefined when none applies; throws when
 * `given` names no stored tenant or several are stored and none was named.
 */
export function resolveTenant(db: Db, given: string | undefined, source?: string): TenantConfig | undefined {
  const all = listTenantConfigs(db).map((t) => t.tenant);
  if (given !== undefined) {
    const t = loadTenantConfig(db, given);
    if (!t) throw new Error(`no tenant configuration "${given}" (imported: ${all.join(', ') || 'none'}; use mailgate audit import-config --tenant ${given} FILE…)`);
    return t;
  }
  const fromSource = source?.startsWith('import:') ? source.slice(7) : undefined;
  if (fromSource && all.includes(fromSource)) return loadTenantConfig(db, fromSource);
  if (all.length === 1) return loadTenantConfig(db, all[0] as string);
  if (all.length > 1 && !fromSource) throw new Error(`several tenant configurations are stored (${all.join(', ')}): name one with --tenant`);
  return undefined;
}
