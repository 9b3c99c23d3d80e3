/**
 * @module audit/plan-script
 * The migration plan as one PowerShell script that runs ONE stage per call, never all at once:
 * `-Stage connectors | monitor | review | enforce | after` is mandatory, `-Rollback` undoes the
 * named stage, and the enforce stage throws unless `-QuietPeriodReviewed` says its checkpoint (the
 * quiet period and the monitoring rule's hits) was checked. Each stage ends by printing its
 * checkpoint. Every value in it was escaped when the plan was built (audit/plan-steps); line
 * breaks are removed here once more so no value can leave a comment line.
 * Touches: nothing (pure).
 */
import type { Plan } from './plan.ts';
import type { PlanStage } from './plan-steps.ts';

const oneLine = (l: string): string => l.replace(/[\r\n\u2028\u2029]+/g, ' ');
/** A PowerShell single-quoted literal. */
const lit = (s: string): string => `'${oneLine(s).replace(/['\u2018\u2019]/g, (c) => c + c)}'`;

function block(lines: readonly string[], indent: string): string[] {
  return lines.map((l) => indent + oneLine(l));
}

function stageCase(s: PlanStage, n: number): string[] {
  const i = '    ';
  const out = [`  '${s.id}' {`];
  out.push(`${i}if ($Rollback) {`, ...block(s.rollback.length ? s.rollback : ['# nothing to undo'], i + '  '), `${i}  break`, `${i}}`);
  if (s.id === 'enforce') {
    out.push(`${i}if (-not $QuietPeriodReviewed) { throw ${lit('Stage 3 runs only after the quiet period: run -Stage review, check the monitoring rule\'s hits, then run -Stage enforce -QuietPeriodReviewed')} }`);
  }
  out.push(`${i}# Stage ${n}: ${oneLine(s.title)}`, ...block(s.intro.map((t) => `# ${t}`), i), ...block(s.commands, i));
  for (const c of s.checkpoint) out.push(`${i}Write-Host ${lit(`Checkpoint: ${c}`)}`);
  out.push('  }');
  return out;
}

/** The plan as a stage-by-stage PowerShell script (module header). */
export function renderScript(p: Plan): string {
  const monitor = p.stages.find((s) => s.id === 'monitor');
  const review = (monitor?.queries ?? []).filter((q) => !q.startsWith('$NotifyAddress'));
  const out = [
    '<#',
    `  Direct Send migration plan, generated ${p.generatedAt} by mailgate (source: ${oneLine(p.source)}).`,
    '  Runs ONE stage per call, in this order, with a checkpoint between stages:',
    '    .\\plan.ps1 -Stage connectors              # 1: connectors for the legitimate sources, no restrictions',
    '    .\\plan.ps1 -Stage monitor                 # 2: the monitoring rule in audit mode (holds nothing)',
    '    .\\plan.ps1 -Stage review -NotifyAddress you@domain   # what the rule caught, after the quiet period',
    '    .\\plan.ps1 -Stage enforce -QuietPeriodReviewed       # 3: restrictions, then RejectDirectSend',
    '    .\\plan.ps1 -Stage after                   # 4: remove the monitoring rule',
    '  Undo a stage: .\\plan.ps1 -Stage <stage> -Rollback',
    `  ${oneLine(p.refusal ? `RejectDirectSend is not recommended: ${p.refusal}.` : p.rejects)}`,
    '#>',
    '[CmdletBinding()]',
    'param(',
    "  [Parameter(Mandatory = $true)][ValidateSet('connectors', 'monitor', 'review', 'enforce', 'after')][string]$Stage,",
    '  [switch]$Rollback,',
    '  [switch]$QuietPeriodReviewed,',
    "  [string]$NotifyAddress = ''",
    ')',
    "$ErrorActionPreference = 'Stop'",
    'switch ($Stage) {',
  ];
  p.stages.forEach((s, i) => {
    out.push(...stageCase(s, i + 1));
    if (s.id === 'monitor') {
      out.push(
        "  'review' {",
        `    if (-not $NotifyAddress) { throw ${lit('pass -NotifyAddress you@domain: the historical search mails its report there')} }`,
        ...block(review, '    '),
        '  }',
      );
    }
  });
  out.push('}');
  return out.join('\n') + '\n';
}
