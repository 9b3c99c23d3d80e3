/**
 * @module cli/commands/rule
 * `mailgate rule list|show|add|set|remove|enable|disable|test|lint`: transport rules (Exchange's
 * *-TransportRule cmdlets, reference §8). Thin: parses flags, calls ops/rules, prints table, JSON or
 * CSV. Conditions, exceptions and actions are given as JSON or YAML objects with the config's names
 * (`--conditions '{attributionIs: [direct-send]}'`); `rule add --template direct-send-quarantine`
 * creates Microsoft's recommended rule in Audit mode.
 * Touches: the config store (through ops/).
 */
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { addRule, addTemplateRule, lintRules, listRules, removeRule, RULE_TEMPLATES, setRule, setRuleState, showRule, testRules, type RuleTemplate } from '../../ops/rules.ts';
import type { OpsContext } from '../../ops/context.ts';
import { replayRules } from '../../ops/rules-replay.ts';
import { parseSince } from '../../trace/index.ts';
import { changedIn, dataDirOf, defaultIo, withOps, type CliIo } from '../context.ts';
import { enumParser, formatOption, parseBool, printRecord, printRows, splitList, terminalSafe, UsageError, type OutputFormat } from '../format.ts';

const MODES = ['Enforce', 'Audit', 'AuditAndNotify'] as const;
const LOCATIONS = ['Header', 'Envelope', 'HeaderOrEnvelope'] as const;

interface RuleFlags {
  name?: string;
  priority?: string;
  mode?: string;
  state?: string;
  senderAddressLocation?: string;
  conditions?: string;
  exceptions?: string;
  actions?: string;
  stop?: boolean;
  comment?: string;
  activationDate?: string;
  expiryDate?: string;
}

function objectFlag(flag: string, text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = parseYaml(text);
  } catch (e) {
    throw new UsageError(`${flag}: not JSON or YAML (${(e as Error).message})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`${flag} must be an object, e.g. '{quarantine: true}'`);
  return v as Record<string, unknown>;
}

function priorityOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--priority must be a whole number from 0 (got "${v}")`);
  return n;
}

/** The rule fields the flags set (undefined ones left out). */
function fieldsOf(o: RuleFlags): Record<string, unknown> {
  const f: Record<string, unknown> = {
    name: o.name,
    mode: o.mode === undefined ? undefined : enumParser('--mode', MODES)(o.mode),
    state: o.state === undefined ? undefined : parseBool(o.state) ? 'Enabled' : 'Disabled',
    senderAddressLocation: o.senderAddressLocation === undefined ? undefined : enumParser('--sender-address-location', LOCATIONS)(o.senderAddressLocation),
    conditions: objectFlag('--conditions', o.conditions),
    exceptions: objectFlag('--exceptions', o.exceptions),
    actions: objectFlag('--actions', o.actions),
    stopRuleProcessing: o.stop,
    comment: o.comment,
    activationDate: o.activationDate,
    expiryDate: o.expiryDate,
  };
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
}

function ruleOptions(cmd: Command): Command {
  return cmd
    .option('--priority <n>', '0 runs first; a used priority shifts the others down')
    .option('--mode <mode>', 'Enforce, Audit or AuditAndNotify')
    .option('--state <enabled>', 'true (Enabled) or false (Disabled)')
    .option('--sender-address-location <where>', 'Header (default), Envelope or HeaderOrEnvelope')
    .option('--conditions <object>', "JSON/YAML object, e.g. '{attributionIs: [direct-send]}'")
    .option('--exceptions <object>', "JSON/YAML object, e.g. '{senderIpRanges: [192.0.2.10]}'")
    .option('--actions <object>', "JSON/YAML object, e.g. '{quarantine: true}'")
    .option('--stop', 'stopRuleProcessing')
    .option('--comment <text>', 'free text')
    .option('--activation-date <iso>', 'ISO 8601 time the rule starts')
    .option('--expiry-date <iso>', 'ISO 8601 time the rule ends');
}


export function registerRule(program: Command, io: CliIo = defaultIo()): void {
  const rule = program.command('rule').description('mail flow (transport) rules: conditions, exceptions, actions; Enforce, Audit or AuditAndNotify');
  rule
    .command('list')
    .description('rules in priority order')
    .addOption(formatOption())
    .action(async (o: { format: OutputFormat }, c: Command) => {
      const rows = await withOps(c, listRules);
      printRows(rows as unknown as Record<string, unknown>[], ['priority', 'name', 'state', 'mode', 'conditions', 'exceptions', 'actions', 'stop'], o.format, io.out);
    });
  rule
    .command('show')
    .argument('<name>')
    .description('one rule, every field')
    .addOption(formatOption())
    .action(async (name: string, o: { format: OutputFormat }, c: Command) => {
      const r = await withOps(c, (ctx) => showRule(ctx, name));
      if (o.format === 'json') io.out.write(JSON.stringify(r, null, 2) + '\n');
      else printRecord(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v])), o.format, io.out);
    });
  ruleOptions(rule.command('add').description('add a rule (or --template direct-send-quarantine, created in Audit mode)'))
    .option('--name <name>', 'rule name')
    .option('--template <template>', `one of ${RULE_TEMPLATES.join(', ')}`)
    .option('--except-ip <ip...>', 'template: sender IPs/CIDRs exempt (devices and services allowed to send directly)')
    .action(async (o: RuleFlags & { template?: string; exceptIp?: string[] }, c: Command) => {
      const priority = priorityOf(o.priority);
      const out = await withOps(c, async (ctx) => {
        if (o.template !== undefined) {
          const t = enumParser('--template', RULE_TEMPLATES)(o.template) as RuleTemplate;
          const made = await addTemplateRule(ctx, t, splitList(o.exceptIp), o.name);
          const extra = fieldsOf({ ...o, name: undefined });
          return Object.keys(extra).length || priority !== undefined ? { version: await setRule(ctx, made.rule.name, { ...extra, ...(priority !== undefined ? { priority } : {}) }), rule: made.rule } : made;
        }
        if (!o.name) throw new UsageError('rule add needs --name (or --template)');
        if (!o.actions) throw new UsageError("rule add needs --actions, e.g. --actions '{quarantine: true}'");
        return addRule(ctx, fieldsOf(o), priority);
      });
      io.out.write(`rule "${terminalSafe(out.rule.name)}" added (${changedIn({ dataDir: dataDirOf(c) }, out.version)})\n`);
    });
  ruleOptions(rule.command('set').argument('<name>').description('change a rule (only the fields given)'))
    .option('--name <new-name>', 'rename')
    .action(async (name: string, o: RuleFlags, c: Command) => {
      const priority = priorityOf(o.priority);
      const v = await withOps(c, (ctx) => setRule(ctx, name, { ...fieldsOf(o), ...(priority !== undefined ? { priority } : {}) }));
      io.out.write(`rule "${terminalSafe(name)}" updated (${changedIn({ dataDir: dataDirOf(c) }, v)})\n`);
    });
  for (const [verb, run] of [
    ['remove', (ctx: OpsContext, n: string) => removeRule(ctx, n)],
    ['enable', (ctx: OpsContext, n: string) => setRuleState(ctx, n, 'Enabled')],
    ['disable', (ctx: OpsContext, n: string) => setRuleState(ctx, n, 'Disabled')],
  ] as const) {
    rule
      .command(verb)
      .argument('<name>')
      .description(`${verb} a rule`)
      .action(async (name: string, _o: unknown, c: Command) => {
        const v = await withOps(c, (ctx) => run(ctx, name));
        io.out.write(`rule "${terminalSafe(name)}" ${verb === 'remove' ? 'removed' : verb + 'd'} (${changedIn({ dataDir: dataDirOf(c) }, v)})\n`);
      });
  }
  rule
    .command('lint')
    .description('the real-world mistakes: actions that never run in audit mode, Header where the envelope is meant, SCL -1 bypasses, disabled rules relied on')
    .addOption(formatOption())
    .action(async (o: { format: OutputFormat }, c: Command) => {
      const findings = await withOps(c, lintRules);
      printRows(findings as unknown as Record<string, unknown>[], ['severity', 'code', 'rule', 'priority', 'message', 'fix'], o.format, io.out);
      if (findings.some((f) => f.severity === 'error')) process.exitCode = 1;
    });
  rule
    .command('replay')
    .description("what the rules would do to recorded traffic (facts the trace lacks — headers, body — are counted as undetermined, never guessed)")
    .option('--since <window>', 'e.g. 7d, 30d or an ISO date', '30d')
    .option('--limit <n>', 'most messages read', '100000')
    .option('--as-enforce', 'run every rule as if in Enforce mode (what enabling enforcement would do)')
    .addOption(formatOption())
    .action(async (o: { since: string; limit: string; asEnforce?: boolean; format: OutputFormat }, c: Command) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit <= 0) throw new UsageError(`--limit must be a positive whole number (got "${o.limit}")`);
      const since = sinceOf(o.since);
      const res = await withOps(c, (ctx) => replayRules(ctx, { since, limit, asEnforce: o.asEnforce }));
      printRows(res.rows as unknown as Record<string, unknown>[], ['rule', 'mode', 'state', 'hits', 'undetermined', 'actions', 'needs', 'samples'], o.format, io.out);
      if (o.format === 'table') io.out.write(`${res.messages} message(s) replayed${o.asEnforce ? ' with every rule in Enforce' : ''}\n`);
    });
  rule
    .command('test')
    .description('what-if: which rules one message would meet, and what they would do (facts not given are reported, not guessed)')
    .requiredOption('--ip <ip>', 'client IP')
    .requiredOption('--from <address>', 'MAIL FROM')
    .requiredOption('--to <address...>', 'recipients')
    .option('--header-from <address>', 'header From (default: MAIL FROM)')
    .option('--subject <text>', 'subject')
    .option('--header <field...>', '"Name: value" header fields (without any, header conditions are undetermined)')
    .option('--body <text>', 'body text (without it, body conditions are undetermined)')
    .option('--attachment <file...>', 'attachment file names')
    .option('--size <bytes>', 'message size')
    .option('--auth-user <user>', 'SMTP AUTH user')
    .option('--spf <result>')
    .option('--dkim <result>')
    .option('--dmarc <result>')
    .option('--compauth <result>')
    .addOption(formatOption())
    .action(async (o: Record<string, string | string[] | undefined> & { format: OutputFormat }, c: Command) => {
      const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
      const headers = splitList(o.header as string[] | undefined).map((h): [string, string] => {
        const i = h.indexOf(':');
        if (i <= 0) throw new UsageError(`--header "${h}": expected "Name: value"`);
        return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
      });
      const auth = str('spf') ?? str('dkim') ?? str('dmarc') ?? str('compauth');
      const out = await withOps(c, (ctx) =>
        testRules(ctx, {
          clientIp: str('ip') ?? '',
          mailFrom: str('from') ?? '',
          headerFrom: str('headerFrom'),
          recipients: splitList(o.to as string[]),
          subject: str('subject'),
          headers: o.header ? headers : undefined,
          body: str('body'),
          attachments: o.attachment ? splitList(o.attachment as string[]) : undefined,
          size: str('size') === undefined ? undefined : Number(str('size')),
          authUser: str('authUser'),
          auth: auth === undefined ? undefined : { spf: str('spf') ?? 'none', dkim: str('dkim') ?? 'none', dmarc: str('dmarc') ?? 'none', compauth: str('compauth') ?? 'none', spoofSuspect: false },
        }),
      );
      if (o.format === 'json') {
        io.out.write(JSON.stringify(out, null, 2) + '\n');
        return;
      }
      const rows = [
        ...out.hits.map((h) => ({ rule: h.rule, mode: h.mode, result: 'hit', ran: h.applied.join(', '), wouldHaveRun: h.actions.filter((a) => !h.applied.includes(a)).join(', ') })),
        ...out.undetermined.map((u) => ({ rule: u.split(': ')[0], mode: '', result: 'undetermined', ran: '', wouldHaveRun: `needs: ${u.split(': ').slice(1).join(': ')}` })),
      ];
      printRows(rows, ['rule', 'mode', 'result', 'ran', 'wouldHaveRun'], o.format, io.out);
      if (o.format === 'table') io.out.write(`attribution: ${out.attribution}; ${effectLine(out.effect)}\n`);
    });
}

function effectLine(e: Awaited<ReturnType<typeof testRules>>['effect']): string {
  if (e.reject) return terminalSafe(`effect: reject 550 ${e.reject.enhanced} ${e.reject.text} (rule ${e.reject.rule})`);
  if (e.delete) return terminalSafe(`effect: delete (rule ${e.delete.rule})`);
  if (e.quarantine) return terminalSafe(`effect: quarantine (rule ${e.quarantine.rule})`);
  const parts = [e.redirectTo ? `redirect to ${e.redirectTo.join(', ')}` : '', e.addRecipients.length ? `add ${e.addRecipients.join(', ')}` : '', e.headerEdits.length ? `${e.headerEdits.length} header edit(s)` : ''].filter(Boolean);
  return terminalSafe(`effect: deliver${parts.length ? ' with ' + parts.join('; ') : ''}`);
}

function sinceOf(v: string): number {
  try {
    return parseSince(v, Date.now());
  } catch (e) {
    throw new UsageError(`--since: ${(e as Error).message}`);
  }
}
