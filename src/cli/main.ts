#!/usr/bin/env node
/**
 * @module cli/main
 * The `mailgate` command: `mailgate <noun> <verb> [flags]`. Exit codes: 0 ok, 1 failure,
 * 2 usage error. `--data DIR` (default ./data) holds the SQLite store and the spool.
 * Touches: whatever the chosen command touches.
 */
import { Command } from 'commander';
import { registerServe } from './commands/serve.ts';
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
import { registerPolicyReplay } from './replay.ts';
import { reportError } from './format.ts';
import { registerBackup } from './commands/backup.ts';
import { releaseVersion } from '../daemon/release.ts';

/** Build the program (tests build it too). */
export function buildProgram(): Command {
  const program = new Command('mailgate')
    .description('SMTP mail-flow security gateway: Direct Send control, inbound connectors, durable queue, trace')
    .option('--data <dir>', 'data directory (SQLite store, spool)', './data')
    .version(releaseVersion(), '-V, --version', 'print the mailgate version')
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  registerConfig(program);
  registerOrg(program);
  registerDomain(program);
  registerConnector(program);
  registerList(program);
  registerUser(program);
  registerRoute(program);
  registerPolicy(program);
  const policy = program.commands.find((c) => c.name() === 'policy');
  if (policy) registerPolicyReplay(policy);
  registerQueue(program);
  registerTrace(program);
  registerReport(program);
  registerAudit(program);
  registerBackup(program);
  for (const c of program.commands) {
    c.exitOverride();
    for (const s of c.commands) s.exitOverride();
  }
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    process.exitCode = reportError(e);
  }
}

await main();
