/**
 * @module cli/commands/audit-datasets
 * `mailgate audit list` and `mailgate audit remove NAME`: the imports as named data sets (file(s)
 * with SHA-256, kind, message copies held, first/last time, tenant domains; audit/datasets).
 * `list` takes `--format table|json|csv`; `remove` deletes the import's rows, its Inbound messages
 * report rows and its record, and fails (exit 1) on a name that is no import.
 * The CLI's face of ops/audit's listImports and removeImport; this file only formats.
 * Touches: nothing itself (ops/audit: the trace store and audit tables).
 */
import type { Command } from 'commander';
import type { Dataset } from '../../audit/index.ts';
import { listImports, removeImport } from '../../ops/audit.ts';
import { defaultIo, withOps, type CliIo } from '../context.ts';
import { formatOption, printRows, type OutputFormat } from '../format.ts';

const iso = (t: number | undefined): string => (t === undefined ? '' : new Date(t).toISOString());

/** One listing row; JSON keeps the file list whole. */
function listingRow(d: Dataset, format: OutputFormat): Record<string, unknown> {
  return {
    name: d.name,
    source: d.source,
    kinds: d.kinds.join(' '),
    rows: d.rows,
    reportRows: d.reportRows,
    first: iso(d.first),
    last: iso(d.last),
    tenantDomains: format === 'json' ? d.tenantDomains : d.tenantDomains.join(' '),
    tenantHow: d.tenantHow,
    files: format === 'json' ? d.files : d.files.map((f) => `${f.file} (${f.kind}, sha256 ${f.sha256})`).join('; '),
    importedAt: iso(d.importedAt),
  };
}

const COLUMNS = ['name', 'kinds', 'rows', 'first', 'last', 'tenantDomains', 'files'];
const ALL_COLUMNS = ['name', 'source', 'kinds', 'rows', 'reportRows', 'first', 'last', 'tenantDomains', 'tenantHow', 'files', 'importedAt'];

/** Register `audit list` and `audit remove` on the `audit` command. */
export function registerAuditDatasets(audit: Command, io: CliIo = defaultIo()): void {
  audit
    .command('list')
    .description('list the imports (named data sets): files with SHA-256, kind, rows, first/last time, tenant domains')
    .addOption(formatOption())
    .action(async (o: { format: OutputFormat }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const sets = await listImports(ctx);
        if (sets.length === 0 && o.format === 'table') {
          io.out.write('no imports (mailgate audit import FILE... adds one)\n');
          return;
        }
        printRows(sets.map((d) => listingRow(d, o.format)), o.format === 'table' ? COLUMNS : ALL_COLUMNS, o.format, io.out);
      }),
    );
  audit
    .command('remove')
    .description('delete an import: its message copies, its Inbound messages report rows and its record')
    .argument('<name>', 'the import name (as audit list shows it)')
    .action(async (name: string, _o: unknown, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const gone = await removeImport(ctx, name);
        io.out.write(`removed import:${name}: ${gone.messages} message copies, ${gone.reportRows} Inbound messages report rows\n`);
      }),
    );
}
