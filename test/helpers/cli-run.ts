/**
 * @module test/helpers/cli-run
 * Run `mailgate --data DIR …` in-process with the given command nouns registered; returns stdout.
 * Touches: whatever the commands touch (a data dir).
 */
import { Readable } from 'node:stream';
import { Command } from 'commander';
import type { CliIo } from '../../src/cli/context.ts';

export type Register = (program: Command, io: CliIo) => void;

/** Parse `args` after `--data data`; rejects with the command's error. */
export async function runCli(data: string, args: string[], registers: readonly Register[]): Promise<string> {
  let out = '';
  const io: CliIo = { out: { write: (s: string) => (out += s) }, err: { write: () => true }, stdin: Readable.from([]) };
  const program = new Command('mailgate').exitOverride().option('--data <dir>', 'data directory', './data');
  program.configureOutput({ writeOut: (s) => (out += s), writeErr: () => undefined });
  for (const register of registers) register(program, io);
  await program.parseAsync(['--data', data, ...args], { from: 'user' });
  return out;
}
