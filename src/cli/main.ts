#!/usr/bin/env node
/**
 * @module cli/main
 * The `mailgate` command: `mailgate <noun> <verb> [flags]`. Exit codes: 0 ok, 1 failure,
 * 2 usage error. `--data DIR` (default: $MAILGATE_DATA, else ./data) holds the SQLite store and
 * the spool; only `init` and `serve` create one.
 * Touches: whatever the chosen command touches.
 */
import { Command } from 'commander';
import { registerServe } from './commands/serve.ts';
import { registerInit } from './commands/init.ts';
import { registerListener } from './commands/listener.ts';
import { registerQueue } from './commands/queue.ts';
import { registerTrace } from './commands/trace.ts';
import { registerPolicy } from './commands/policy.ts';
import { registerConfig } from './commands/config.ts';
import { registerOrg } from './commands/org.ts';
import { registerDomain } from './commands/domain.ts';
import { registerConnector } from './commands/connector.ts';
import { registerList } from './commands/list.ts';
import { registerUser } from './commands/user.ts';
import { registerRoute } from './commands/route.ts';
import { registerReport } from './commands/report.ts';
import { registerAudit } from './commands/audit.ts';
import { registerEgress } from './commands/egress.ts';
import { registerEgressGone } from './commands/report-egress.ts';
import { defaultIo } from './context.ts';
import { registerPolicyReplay } from './replay.ts';
import { reportError } from './format.ts';
import { registerBackup } from './commands/backup.ts';
import { registerRule } from './commands/rule.ts';
import { registerQuarantine } from './commands/quarantine.ts';
import { registerAlert } from './commands/alert.ts';
import { registerToken } from './commands/token.ts';
import { registerNode } from './commands/node.ts';
import { releaseVersion } from '../daemon/release.ts';

/** Build the program (tests build it too). */
export function buildProgram(): Command {
  const program = new Command('mailgate')
    .description('SMTP mail-flow security gateway: Direct Send control, inbound connectors, durable queue, trace')
    .option('--data <dir>', 'data directory (SQLite store, spool); default: $MAILGATE_DATA, else ./data')
    // `mailgate --version` is answered in main(): commander's program-wide .version() would swallow `config show --version N`.
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  registerInit(program);
  registerConfig(program);
  registerOrg(program);
  registerDomain(program);
  registerConnector(program);
  registerList(program);
  registerListener(program);
  registerUser(program);
  registerRoute(program);
  registerPolicy(program);
  const policy = program.commands.find((c) => c.name() === 'policy');
  if (policy) registerPolicyReplay(policy);
  registerQueue(program);
  registerTrace(program);
  registerReport(program);
  const report = program.commands.find((c) => c.name() === 'report');
  if (report) registerEgressGone(report, defaultIo());
  registerAudit(program);
  registerEgress(program);
  registerBackup(program);
  registerRule(program);
  registerQuarantine(program);
  registerAlert(program);
  registerToken(program);
  registerNode(program);
  for (const c of program.commands) {
    c.exitOverride();
    for (const s of c.commands) s.exitOverride();
  }
  return program;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${releaseVersion()}\n`);
    return;
  }
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    process.exitCode = reportError(e);
  }
}

await main();
