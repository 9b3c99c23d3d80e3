/**
 * @module cli/commands/model
 * Registers every model noun (config, org, domain, connector, list, listener, user, route) on a commander
 * program in one call, for main.ts. Each noun lives in its own file with its own `register*`.
 * Touches: nothing itself.
 */
import type { Command } from 'commander';
import { defaultIo, type CliIo } from '../context.ts';
import { registerConfig } from './config.ts';
import { registerConnector } from './connector.ts';
import { registerDomain } from './domain.ts';
import { registerList } from './list.ts';
import { registerListener } from './listener.ts';
import { registerOrg } from './org.ts';
import { registerRoute } from './route.ts';
import { registerUser } from './user.ts';

export { registerConfig, registerConnector, registerDomain, registerList, registerListener, registerOrg, registerRoute, registerUser };

/** Register all model commands (`config`, `org`, `domain`, `connector`, `list`, `listener`, `user`, `route`). */
export function registerModelCommands(program: Command, io: CliIo = defaultIo()): void {
  registerConfig(program, io);
  registerOrg(program, io);
  registerDomain(program, io);
  registerConnector(program, io);
  registerList(program, io);
  registerListener(program, io);
  registerUser(program, io);
  registerRoute(program, io);
}
