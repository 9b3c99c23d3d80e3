/**
 * @module config/load
 * YAML in and out of the model: parse (syntax errors with line and column), validate with the zod
 * schema (every issue reported as `file: path.to[2].field: reason`, not just the first), then
 * compile once to prove the config is usable (duplicate names, bad CIDRs), so a bad entry is
 * refused at load with its path named. An alias bomb (billion laughs) is refused with one line.
 * Also the defaults and the embedded example config.
 * Touches: reads mailgate.example.yaml at the repo root (loadExampleConfig only).
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.ts';
import { compilePolicy, ConfigError } from './compile.ts';
import { selfRouteErrors } from './self-route.ts';
import { nodeEntryProblems } from './schema-nodes.ts';
import { applyOverrides, configuredOverrides } from './node-listen.ts';
import { checkListenerOverlap, checkRouteOverlap } from './overlap.ts';

/** Several configuration problems at once; `message` holds one `file: path: reason` line per error. */
export class ConfigErrors extends ConfigError {
  readonly errors: readonly ConfigError[];
  constructor(errors: readonly ConfigError[]) {
    const first = errors[0] ?? new ConfigError('', 'invalid configuration');
    super(first.path, first.reason, first.file);
    this.errors = errors.length ? errors : [first];
    this.message = this.errors.map((e) => e.message).join('\n');
    this.name = 'ConfigErrors';
  }
}

/** The `file: path: reason` lines of a config error (one for a ConfigError, all for ConfigErrors). */
export function configErrorLines(e: ConfigError): string[] {
  return e instanceof ConfigErrors ? e.errors.map((x) => x.message) : [e.message];
}

/** Render a zod issue path as `inboundConnectors[1].senderIPAddresses[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

function issueToErrors(issue: z.core.$ZodIssue, file?: string): ConfigError[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => new ConfigError(formatPath([...issue.path, k]), 'unknown setting', file));
  }
  let reason = issue.message;
  const missing = /^Invalid input: expected (\w+), received undefined$/.exec(reason);
  if (missing) reason = `required (expected ${missing[1]})`;
  return [new ConfigError(formatPath(issue.path), reason, file)];
}

/** How strictly to validate: a stored version is read back without the overlap checks added since. */
export interface ValidateOptions {
  /** Reading a version already in the store: it must load even if a newer rule would refuse it. */
  stored?: boolean;
}

/** Validate and compile a plain object (already parsed from YAML or JSON). Throws ConfigErrors. */
export function validateConfig(obj: unknown, file?: string, opts: ValidateOptions = {}): Config {
  const result = configSchema.safeParse(obj ?? {});
  if (!result.success) {
    throw new ConfigErrors(result.error.issues.flatMap((i) => issueToErrors(i, file)));
  }
  try {
    compilePolicy(result.data, 0);
    if (!opts.stored) {
      checkRouteOverlap(result.data);
      checkListenerOverlap(result.data);
    }
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigErrors([new ConfigError(e.path, e.reason, file ?? e.file)]);
    throw e;
  }
  const nodes = nodeEntryProblems(result.data.nodes, result.data.receiveConnectors.map((l) => l.name));
  if (nodes.length) throw new ConfigErrors(nodes.map((p) => new ConfigError(p.path, p.reason, file)));
  const perNode = nodeViewErrors(result.data, opts, file);
  if (perNode.length) throw new ConfigErrors(perNode);
  // A route back to one of our own listeners is a mail loop (issue 19): refused like a bad entry.
  const loops = selfRouteErrors(result.data, undefined, file);
  if (loops.length) throw new ConfigErrors(loops);
  // zod hands out its `.default()` objects by reference; clone so callers may mutate or freeze.
  return structuredClone(result.data);
}

/**
 * The listener checks on each node's view (its `nodes` entry applied): a node whose moved
 * listener overlaps another, or that a route would send back to itself, is refused by its entry.
 */
function nodeViewErrors(config: Config, opts: ValidateOptions, file: string | undefined): ConfigError[] {
  const out: ConfigError[] = [];
  // A stored version loads as it was saved; the checks are for a change being made.
  if (opts.stored) return out;
  config.nodes.forEach((n, i) => {
    if (n.listen.length === 0) return;
    const view = applyOverrides(config, configuredOverrides(config, n.name));
    const where = (e: ConfigError): ConfigError => new ConfigError(`nodes[${i}].listen`, `on node "${n.name}": ${e.path}: ${e.reason}`, file);
    try {
      checkListenerOverlap(view);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      out.push(where(e));
    }
    // Another host's node: only a route to the very address it binds is known to be its own
    // (this machine's interfaces and names say nothing about that host).
    out.push(...selfRouteErrors(view, { addresses: [], names: [] }).map(where));
  });
  return out;
}

/** Parse YAML text into a validated, compilable Config. Throws ConfigErrors naming file, path and reason. */
export function parseConfigText(text: string, file?: string, opts: ValidateOptions = {}): Config {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigErrors(
      doc.errors.map((err) => {
        const pos = err.linePos?.[0];
        const where = pos ? `line ${pos.line}, column ${pos.col}` : 'YAML';
        const reason = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
        return new ConfigError(where, `YAML syntax error: ${reason}`, file);
      }),
    );
  }
  let obj: unknown;
  try {
    // yaml expands at most maxAliasCount aliases (billion laughs): past it toJS throws.
    obj = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    const reason = e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e);
    throw new ConfigErrors([new ConfigError('YAML', `refused: ${reason} (a YAML alias bomb; the alias expansion limit is ${MAX_YAML_ALIASES})`, file)]);
  }
  return validateConfig(obj, file, opts);
}

/** Alias expansions allowed in a YAML file (yaml's default, named here: a config needs few). */
export const MAX_YAML_ALIASES = 100;

/** Serialise a config as YAML in schema key order (stable, so versions diff cleanly). */
export function configToYaml(config: Config): string {
  // Re-parsing puts keys in schema order whatever order a mutation added them in.
  const ordered = configSchema.parse(config);
  return toReadableYaml(ordered);
}

/** YAML with block maps and short lists of scalars written inline (`domains: ['*']`). */
export function toReadableYaml(value: unknown): string {
  const doc = new YAML.Document(value);
  YAML.visit(doc, {
    Seq(_key, node) {
      if (node.items.every((i) => YAML.isScalar(i))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, indentSeq: true, singleQuote: true, flowCollectionPadding: false });
}

/** The built-in defaults of every setting (no domains, connectors, listeners or routes). */
export function defaultConfig(): Config {
  return structuredClone(configSchema.parse({}));
}

/** Location of the embedded example config (repo root; works from src/config and dist/config). */
export const exampleConfigUrl = new URL('../../mailgate.example.yaml', import.meta.url);

/** The text of mailgate.example.yaml. */
export function exampleConfigText(): string {
  return readFileSync(exampleConfigUrl, 'utf8');
}

/** The configuration a new installation starts with (mailgate.example.yaml). */
export function loadExampleConfig(): Config {
  return parseConfigText(exampleConfigText(), 'mailgate.example.yaml');
}
