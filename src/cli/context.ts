/**
 * @module cli/context
 * What a CLI command runs with: the data directory and its store (opened per command; only
 * `mailgate init` creates one, every other command refuses a directory without a store, so a
 * command run from the wrong directory never changes a fresh, unused store), who is acting
 * (recorded with every config version), and the I/O seams (stdout, stderr, stdin, the password
 * source) that tests replace. The data directory is `--data`, else MAILGATE_DATA, else ./data.
 * Passwords are read from stdin when it is not a terminal (first line), otherwise prompted twice
 * without echo; never taken from a flag (it would land in shell history and `ps`).
 * Touches: <data>/mailgate.db (and the PostgreSQL store its store.yaml names); stdin/stdout/stderr.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { openDatabase, type Db } from '../core/sqlite.ts';
import { completenessProblems, defaultNodeName, loadExampleConfig, StoreUnavailableError, type Config, type ConfigStore } from '../config/index.ts';
import { openConfigStore, type OpenedConfigStore } from '../stores/open.ts';
import { SqliteConfigStore } from '../stores/sqlite/config-store.ts';
import { pgTraceStore } from '../stores/postgres/trace-store.ts';
import { enableTraceOutbox, outboxNode, setOutboxNode, sqliteOutbox } from '../stores/sqlite/trace-outbox.ts';
import { sqliteTraceStore } from '../stores/sqlite/trace-store.ts';
import { TraceShipper, type TraceStore } from '../trace/index.ts';
import { checkIdentifier, DEFAULT_SCHEMA, isUnreachable, redactUrl } from '../stores/postgres/pool.ts';
import { readBootstrap, writeBootstrap, type StoreBootstrap } from '../stores/bootstrap.ts';
import { prepareStore } from '../stores/open.ts';
import { CliError, UsageError, type Out } from './format.ts';
import type { OpsContext } from '../ops/context.ts';

export interface CliContext {
  db: Db;
  store: ConfigStore;
  /** Where the store is (SQLite in the directory, or the PostgreSQL schema its store.yaml names). */
  backing: OpenedConfigStore;
  dataDir: string;
  /** Closes the SQLite handle at once; the promise settles when a PostgreSQL pool has ended. */
  close(): Promise<void>;
}

/** I/O seams of the CLI. */
export interface CliIo {
  out: Out;
  err: Out;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Override the password source (tests); default: stdin line or a muted prompt. */
  readPassword?: (prompt: string, confirm: boolean) => Promise<string>;
}

/** The real terminal. */
export function defaultIo(): CliIo {
  return { out: process.stdout, err: process.stderr, stdin: process.stdin };
}

/** The data directory a command names: `--data`, else MAILGATE_DATA, else ./data. */
export function dataDirOf(cmd: Command): string {
  const given = (cmd.optsWithGlobals() as { data?: string }).data;
  return resolve(given ?? (process.env.MAILGATE_DATA || './data'));
}

/**
 * Open `<data>/mailgate.db` and the config store the directory names (`store.yaml`: PostgreSQL;
 * none: the SQLite file). Without `create` a directory holding no store is refused (exit 1); with
 * it (`mailgate init`) the directory is made (0700) and a SQLite store seeded with version 1 from
 * the example config (a PostgreSQL store is migrated and seeded by `init` itself: that is async).
 */
export function openContext(opts: { data: string; create?: boolean }): CliContext {
  const dataDir = resolve(opts.data);
  const file = join(dataDir, 'mailgate.db');
  if (!opts.create && !existsSync(file)) {
    throw new CliError(`no mailgate data directory at ${dataDir}; pass --data or set MAILGATE_DATA (mailgate init creates one)`);
  }
  if (opts.create) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(file);
  try {
    const backing = openConfigStore(dataDir, db);
    const { store } = backing;
    if (store instanceof SqliteConfigStore && store.currentVersionNow() === 0) store.ensureInitialNow(loadExampleConfig(), actor(), 'initial configuration (mailgate.example.yaml)');
    return {
      db,
      store,
      backing,
      dataDir,
      close: () => {
        db.close();
        return backing.close();
      },
    };
  } catch (e) {
    db.close();
    throw e;
  }
}

/** How a command that changed the configuration says what it changed: version and data directory. */
export function changedIn(ctx: Pick<CliContext, 'dataDir'>, version: number): string {
  return `config version ${version} in ${ctx.dataDir}`;
}

/**
 * Refuse (exit 1, with the reasons) a configuration that would receive no mail — no receive
 * connector or no accepted domain — unless the admin forces it.
 */
export function requireComplete(config: Config, force: boolean | undefined): void {
  const problems = completenessProblems(config);
  if (problems.length === 0 || force) return;
  throw new CliError(`refused: ${problems.join('; ')}. Pass --force to save it anyway`);
}

/** Who is acting: the sudo caller if any, else the login name. */
export function actor(): string {
  return process.env.SUDO_USER ?? userInfo().username;
}

/** Run `fn` with a context opened from the command's global `--data` option, closing it after. */
export async function withContext<T>(cmd: Command, fn: (ctx: CliContext) => T | Promise<T>): Promise<T> {
  const ctx = openContext({ data: dataDirOf(cmd) });
  try {
    return await fn(ctx);
  } catch (e) {
    if (e instanceof StoreUnavailableError) throw new CliError(`${e.message}; nothing was changed`);
    if (ctx.backing.bootstrap.kind === 'postgres' && isUnreachable(e)) {
      throw new CliError(`the configuration store ${ctx.backing.where} does not answer (${(e as Error).message}); nothing was changed`);
    }
    throw e;
  } finally {
    await ctx.close();
  }
}

/** Run `fn` with the application layer's context (acting as the login name), closing it after. */
export async function withOps<T>(cmd: Command, fn: (ops: OpsContext) => T | Promise<T>): Promise<T> {
  return withContext(cmd, ({ db, store, backing, dataDir }) => {
    const node = fleetNodeOf(backing, db);
    return fn({
      db,
      store,
      nodes: backing.nodes,
      node,
      dataDir,
      actor: actor(),
      trace: traceOf(backing, db, node ?? actor()),
      shipTrace: fleetShipper(backing, db),
      alerts: backing.alerts,
    });
  });
}

/** On a fleet: the node a data directory's queue owner ships its trace as (`serve --node`), else the default name. */
export function fleetNodeOf(backing: OpenedConfigStore, db: Db): string | undefined {
  return backing.bootstrap.kind === 'postgres' ? nodeNameOf(db) : undefined;
}

/** The node a data directory's queue owner ships its trace as (`serve --node`), else the default name. */
function nodeNameOf(db: Db): string {
  return outboxNode(db) ?? defaultNodeName(hostname());
}

/**
 * On a fleet node: the outbox triggers enabled (so what a command writes to the local trace is
 * recorded), and a drain of the outbox into the shared trace, as the node the queue owner ships
 * as (else the default node name), so a retried event never counts twice.
 */
function fleetShipper(backing: OpenedConfigStore, db: Db): (() => Promise<number>) | undefined {
  if (backing.bootstrap.kind !== 'postgres' || !backing.pool) return undefined;
  enableTraceOutbox(db);
  const { pool, bootstrap } = backing;
  return async () => {
    const node = nodeNameOf(db);
    // Recorded, so this directory's events keep one (node, sequence) key whoever ships them next.
    setOutboxNode(db, node);
    const shipper = new TraceShipper({ outbox: sqliteOutbox(db), store: pgTraceStore({ pool, schema: bootstrap.schema, node, url: bootstrap.url }), node });
    await shipper.drain();
    return shipper.shipped;
  };
}

/** A fleet node's shared trace (its store.yaml names PostgreSQL), else undefined (the SQLite trace). */
export function fleetTrace(backing: OpenedConfigStore, node: string): TraceStore | undefined {
  if (backing.bootstrap.kind !== 'postgres' || !backing.pool) return undefined;
  return pgTraceStore({ pool: backing.pool, schema: backing.bootstrap.schema, node, url: backing.bootstrap.url });
}

/** The trace ops/ reads: the fleet's shared trace on a fleet node, else the SQLite adapter over `db` (closing it leaves `db` open). */
export function traceOf(backing: OpenedConfigStore, db: Db, node: string): TraceStore {
  return fleetTrace(backing, node) ?? sqliteTraceStore(db);
}

function firstLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolveLine, reject) => {
    const rl = createInterface({ input, crlfDelay: Infinity });
    let done = false;
    rl.once('line', (line) => {
      done = true;
      rl.close();
      resolveLine(line);
    });
    rl.once('close', () => (done ? undefined : resolveLine('')));
    input.once('error', reject);
  });
}

function mutedQuestion(io: CliIo, prompt: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      if (!muted) io.err.write(chunk.toString());
      cb();
    },
  });
  const rl = createInterface({ input: io.stdin, output, terminal: true });
  return new Promise((resolveAnswer) => {
    rl.question(prompt, (answer) => {
      rl.close();
      io.err.write('\n');
      resolveAnswer(answer);
    });
    muted = true;
  });
}

/**
 * Read a new password: the first line of stdin when piped, else prompted (twice when `confirm`)
 * with echo off. Empty passwords and mismatches are refused.
 */
export async function readPassword(io: CliIo, prompt = 'Password: ', confirm = true): Promise<string> {
  let pw: string;
  if (io.readPassword) pw = await io.readPassword(prompt, confirm);
  else if (!io.stdin.isTTY) pw = await firstLine(io.stdin);
  else {
    pw = await mutedQuestion(io, prompt);
    if (confirm && (await mutedQuestion(io, 'Again: ')) !== pw) throw new CliError('the passwords do not match');
  }
  if (pw === '') throw new UsageError('empty password (pipe it on stdin or type it at the prompt)');
  return pw;
}

/** Index of the item named `name` (case-insensitive, as Exchange names are), or -1. */
export function indexOfNamed(items: readonly { name: string }[], name: string): number {
  const k = name.toLowerCase();
  return items.findIndex((it) => it.name.toLowerCase() === k);
}

/** The item named `name`; a CliError naming the noun when there is none. */
export function requireNamed<T extends { name: string }>(items: readonly T[], name: string, noun: string): T {
  const i = indexOfNamed(items, name);
  const it = items[i];
  if (!it) throw new CliError(`no ${noun} named "${name}"`);
  return it;
}

/**
 * `<noun> remove NAME` for a named list of the model (connectors, routes, users, listeners): one
 * versioned change that removes the item, or a CliError naming the noun when there is none. With
 * `complete`, a removal that leaves a configuration receiving no mail needs `--force`.
 */
export function registerRemoveNamed(
  parent: Command,
  io: CliIo,
  o: { description: string; noun: string; verb: string; list: (config: Config) => { name: string }[]; complete?: boolean },
): void {
  const remove = parent
    .command('remove')
    .description(o.description)
    .argument('<name>', `${o.noun} name`);
  if (o.complete) remove.option('--force', `remove even the last ${o.noun}`);
  remove.action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
      await withContext(cmd, async (ctx) => {
        const v = await ctx.store.update(actor(), `${o.verb} remove ${name}`, (draft) => {
          const items = o.list(draft);
          requireNamed(items, name, o.noun);
          items.splice(indexOfNamed(items, name), 1);
          if (o.complete) requireComplete(draft, opts.force);
        });
        io.out.write(`${o.noun} ${name} removed (${changedIn(ctx, v)})\n`);
      });
    });
}

/** The PostgreSQL schema `init --store` uses without `--schema`. */
export const DEFAULT_STORE_SCHEMA = DEFAULT_SCHEMA;

/** `init --store URL [--schema NAME]` as a store to keep the configuration in (undefined: SQLite). */
export function storeWanted(o: { store?: string; schema?: string }): StoreBootstrap | undefined {
  if (o.store === undefined) {
    if (o.schema !== undefined) throw new UsageError('--schema needs --store postgres://…');
    return undefined;
  }
  if (!/^postgres(ql)?:\/\//.test(o.store)) throw new UsageError(`--store: a postgres://user@host:port/database URL (got ${redactUrl(o.store)})`);
  const schema = o.schema ?? DEFAULT_SCHEMA;
  try {
    checkIdentifier(schema);
  } catch (e) {
    throw new UsageError(`--schema: ${(e as Error).message}`);
  }
  return { kind: 'postgres', url: o.store, schema };
}

/** What `mailgate init` made or found. */
export interface InitResult {
  existed: boolean;
  version: number;
  /** Where the configuration lives, for a shared store ('' on SQLite). */
  where: string;
  applied: number[];
  seeded: boolean;
}

/**
 * `mailgate init`: create the data directory (or open it), its store.yaml for a fleet node, the
 * store's schema (migrations) and configuration version 1 when the store is empty. A directory
 * already on another store is refused.
 */
export async function initDataDir(dir: string, want: StoreBootstrap | undefined): Promise<InitResult> {
  const existed = existsSync(join(dir, 'mailgate.db'));
  if (existed) {
    const have = readBootstrap(dir);
    const same = have.kind === 'postgres' ? want?.kind === 'postgres' && have.url === want.url && have.schema === want.schema : !want;
    if (want && !same) throw new CliError(`${dir} already holds a mailgate store (${have.kind === 'postgres' ? `${redactUrl(have.url)} schema ${have.schema}` : 'SQLite'}); use a new --data directory`);
  } else if (want) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeBootstrap(dir, want);
  }
  const ctx = openContext({ data: dir, create: true });
  try {
    let applied: number[] = [];
    // SQLite was seeded as it was opened; a shared schema may hold the fleet's configuration already.
    let seeded = ctx.backing.bootstrap.kind === 'sqlite';
    try {
      applied = await prepareStore(ctx.backing);
      if (!seeded) seeded = (await ctx.store.currentVersion()) === 0 && (await ctx.store.ensureInitial(loadExampleConfig(), actor(), 'initial configuration (mailgate.example.yaml)')) === 1;
    } catch (e) {
      throw new CliError(`${ctx.backing.where}: ${(e as Error).message}`);
    }
    const version = await ctx.store.currentVersion();
    return { existed, version, where: ctx.backing.bootstrap.kind === 'postgres' ? ctx.backing.where : '', applied, seeded };
  } finally {
    await ctx.close();
  }
}
