/**
 * @module audit
 * The public surface of audit/: import Exchange Online exports (message trace, historical search,
 * the Inbound messages report, Defender EmailEvents, Change Optics; in every form of reference
 * §5.5) into the trace with source `import:<name>`, each import a named data set (audit list/remove),
 * and the Direct Send migration plan (PowerShell and KQL) built on the readiness report.
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
export { buildPlan, planScript, planSteps, planKql, plannedConnectors, transportRule, type Plan, type PlanOptions, type RuleVariant } from './plan.ts';
export { renderMarkdown, renderHtml } from './plan-render.ts';
