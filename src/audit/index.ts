/**
 * @module audit
 * The public surface of audit/: import Exchange Online exports (message trace, historical search,
 * the Inbound messages report, Defender EmailEvents, Change Optics; in every form of reference
 * §5.5) into the trace with source `import:<name>`, each import a named data set (audit list/remove),
 * the Direct Send migration plan (PowerShell and KQL) built on the readiness report, and the
 * tenant's own configuration (import-config: accepted domains, connectors, RejectDirectSend,
 * transport rules) with the rule linter and the mirror into a mailgate configuration.
 * Touches: nothing itself (see each module).
 */
export { importFiles, defaultImportName, ImportRefused, type ImportOptions, type ImportSummary, type FileSummary, type Malformed } from './import.ts';
export { KIND_FLAGS, type KindFlag, type ExportKind } from './kinds.ts';
export { parseExoTime } from './time.ts';
export { DATE_FORMATS, DateOrder, dateEvidence, type DateFormatFlag } from './dates.ts';
export { getDataset, listDatasets, removeDataset, importNameOf, type Dataset, type DatasetFile } from './datasets.ts';
export { sniffDelimiter, unwrapJson } from './forms.ts';
export { CsvReader, type CsvRecord, type CsvEnd } from './csv.ts';
export { sniffEncoding } from './decode.ts';
export { createSpfAuthorizer, tenantSpfRecords, spfResolver, type SpfOptions } from './spf.ts';
export { buildPlan, planKql, type Plan, type PlanOptions } from './plan.ts';
export { planStages, plannedConnectors, stepForSource, transportRule, RULE_NAME, type PlanStage, type PlannedConnector, type RuleVariant, type SourceStep } from './plan-steps.ts';
export { renderScript } from './plan-script.ts';
export { renderMarkdown, renderHtml } from './plan-render.ts';
export { readTenantFile, TenantConfigRefused, TENANT_KINDS, type TenantKind, type TenantFileSummary } from './tenant-json.ts';
export { saveTenantConfig, loadTenantConfig, listTenantConfigs, resolveTenant } from './tenant-store.ts';
export type { TenantConfig, TenantInboundConnector, TenantTransportRule, TenantAcceptedDomain, TenantOrganization } from './tenant-model.ts';
export { lintRules, LINT_CHECKS, type LintFinding, type LintCode, type LintableRule } from './rule-lint.ts';
export { coveredBy, type Coverage, type CoverableSource } from './tenant-cover.ts';
export { mirrorTenant, type Mirror } from './mirror.ts';
