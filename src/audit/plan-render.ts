/**
 * @module audit/plan-render
 * The migration plan as a document an admin can hand to a colleague: Markdown (GitHub-flavoured
 * tables, fenced `powershell` and `kql` blocks) or a self-contained HTML page (inline CSS, every
 * value escaped). Both carry the same sections in the same order: data, summary, tenant domains and
 * SPF, sources found with their class, the signals that decided it and warnings, the Inbound
 * messages report (when imported), the stages (each: what it does, its commands with their
 * rollbacks, the queries that show what the monitoring rule caught, its rollback, its checkpoint),
 * the sources left without a connector, the KQL, notes. There is no "whole script" block: the
 * stages are meant to be run one at a time (`--format ps1` gives a script that enforces this).
 * Touches: nothing (pure).
 */
import type { DirectSendSource } from '../trace/reports/index.ts';
import type { Plan } from './plan.ts';

type Table = { head: string[]; rows: string[][] };

function sourcesTable(list: readonly DirectSendSource[], withCommand: boolean): Table {
  const head = ['Client IP', 'Sender (P1)', 'Messages', 'First seen', 'Last seen', 'SPF record authorises', 'Classification', 'Reason', 'Signals', 'Warnings', 'Action'];
  if (withCommand) head.push('PowerShell');
  return {
    head,
    rows: list.map((s) => {
      const r = [s.clientIp, s.sender || '<>', String(s.messages), s.firstSeen, s.lastSeen, s.spfAuthorised, s.classification, s.reason, s.signals.join('; '), s.warnings.join('; '), s.action];
      if (withCommand) r.push(s.powershell);
      return r;
    }),
  };
}

interface Section {
  title: string;
  text?: string[];
  table?: Table;
  code?: { lang: string; lines: string[] }[];
  sub?: Section[];
}

function sections(p: Plan): Section[] {
  const out: Section[] = [
    {
      title: 'Data',
      text: [`Window: ${new Date(p.window.since).toISOString()} to ${new Date(p.window.until).toISOString()}; source: ${p.source}.`],
      table: { head: ['Source', 'Rows', 'First', 'Last'], rows: p.data.map((d) => [d.source, String(d.rows), d.first, d.last]) },
    },
    { title: 'Summary', text: p.summary },
    {
      title: 'Tenant domains and SPF',
      text: [`Tenant domains: ${p.tenantDomains.join(', ') || '(none)'}.`],
      table: { head: ['Domain', 'SPF record', 'From'], rows: p.spfRecords.map((r) => [r.domain, r.record || '(none)', r.how]) },
    },
    { title: 'Sources found', table: sourcesTable(p.sources, false), text: p.sources.length ? [] : ['No Direct Send source in the window.'] },
  ];
  if (p.inbound.length) {
    out.push({
      title: 'Inbound messages report',
      text: ['Volume by connector from the imported EAC Inbound messages report (no connector = what RejectDirectSend and the rule act on).'],
      table: { head: ['Connector type', 'Connector', 'Days', 'Volume', 'No TLS'], rows: p.inbound.map((v) => [v.connectorType, v.connector, String(v.days), String(v.volume), String(v.noTls)]) },
    });
  }
  out.push({
    title: 'Migration stages (Exchange Online PowerShell): run one stage at a time',
    text: [p.refusal ? `RejectDirectSend is not recommended: ${p.refusal}.` : p.rejects],
    sub: p.stages.map((s, i) => ({
      title: `Stage ${i + 1}: ${s.title}`,
      text: s.intro,
      code: [{ lang: 'powershell', lines: s.commands }],
      sub: [
        ...(s.queries.length ? [{ title: 'What the rule caught', code: [{ lang: 'powershell', lines: s.queries }] }] : []),
        ...(s.rollback.length ? [{ title: `Rollback of stage ${i + 1}`, code: [{ lang: 'powershell', lines: s.rollback }] }] : []),
        ...(s.checkpoint.length ? [{ title: `Checkpoint before stage ${i + 2}`, text: s.checkpoint.map((c) => `- ${c}`) }] : []),
      ],
    })),
  });
  if (p.refused.length) {
    out.push({ title: 'Sources without a connector', text: ['Once RejectDirectSend is on these get 550 5.7.68 unless their step is done; what to do about each:'], table: sourcesTable(p.refused, true) });
  }
  if (p.egress) out.push({ title: `After the migration: ${p.egress.title}`, text: p.egress.notes, code: [{ lang: 'sh', lines: p.egress.commands }] });
  if (p.kql.length) out.push({ title: 'Defender advanced hunting (KQL)', sub: p.kql.map((k) => ({ title: k.title, code: [{ lang: 'kql', lines: k.query.split('\n') }] })) });
  out.push({ title: 'Notes', text: p.notes.map((n) => `- ${n}`) });
  return out;
}

const mdCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

function mdSection(s: Section, level: number, out: string[]): void {
  out.push(`${'#'.repeat(level)} ${s.title}`, '');
  if (s.text?.length) out.push(...s.text, '');
  if (s.table && s.table.rows.length) {
    out.push(`| ${s.table.head.map(mdCell).join(' | ')} |`, `| ${s.table.head.map(() => '---').join(' | ')} |`);
    for (const r of s.table.rows) out.push(`| ${r.map(mdCell).join(' | ')} |`);
    out.push('');
  }
  for (const c of s.code ?? []) {
    const lines = c.lines.map((l) => l.replace(/[\r\n\u2028\u2029]+/g, ' '));
    // A fence longer than any backtick run inside, so no value can close it.
    const run = Math.max(0, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))));
    const fence = '`'.repeat(Math.max(3, run + 1));
    out.push(fence + c.lang, ...lines, fence, '');
  }
  for (const sub of s.sub ?? []) mdSection(sub, level + 1, out);
}

/** The plan as Markdown. */
export function renderMarkdown(p: Plan): string {
  const out = ['# Direct Send migration plan', '', `Generated ${p.generatedAt} by mailgate.`, ''];
  for (const s of sections(p)) mdSection(s, 2, out);
  return out.join('\n').replace(/\n+$/, '\n');
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function htmlSection(s: Section, level: number, out: string[]): void {
  out.push(`<h${level}>${escapeHtml(s.title)}</h${level}>`);
  for (const t of s.text ?? []) out.push(`<p>${escapeHtml(t)}</p>`);
  if (s.table && s.table.rows.length) {
    out.push('<table>', `<tr>${s.table.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`);
    for (const r of s.table.rows) out.push(`<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`);
    out.push('</table>');
  }
  for (const c of s.code ?? []) out.push(`<pre><code class="language-${c.lang}">${c.lines.map(escapeHtml).join('\n')}</code></pre>`);
  for (const sub of s.sub ?? []) htmlSection(sub, level + 1, out);
}

/** The plan as a self-contained HTML page. */
export function renderHtml(p: Plan): string {
  const out = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Direct Send migration plan</title>',
    '<style>body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}pre{background:#f4f4f4;padding:.75rem;overflow-x:auto}</style>',
    '</head><body>',
    '<h1>Direct Send migration plan</h1>',
    `<p>Generated ${escapeHtml(p.generatedAt)} by mailgate.</p>`,
  ];
  for (const s of sections(p)) htmlSection(s, 2, out);
  out.push('</body></html>');
  return out.join('\n') + '\n';
}
