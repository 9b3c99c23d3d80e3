/**
 * @module scripts/gen-settings
 * Generates docs/settings.md from the zod schema (src/config/schema.ts), the one place a setting is
 * declared: every setting path with its type, default and description (`z.toJSONSchema`, which
 * carries `.describe()` texts and defaults), plus the cross-field rules (`.refine` checks read from
 * the schema's own definition). test/docs/settings.test.ts fails when docs/settings.md differs from
 * what this produces. Run: `node --import tsx scripts/gen-settings.ts` (writes the file);
 * `--check` exits 1 instead when the file is stale.
 * Touches: docs/settings.md (write, or read with --check).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { acceptedDomainSchema, configSchema } from '../src/config/schema.ts';

/** Where the generated file lives. */
export const SETTINGS_MD = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'settings.md');

/** The subset of JSON Schema that z.toJSONSchema produces for this config. */
interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  additionalProperties?: unknown;
}

/** What the top-level sections are, with the Exchange Online cmdlets they correspond to. */
const SECTIONS: Record<string, string> = {
  organization: 'Organization settings (Exchange: `Get-/Set-OrganizationConfig`). CLI: `mailgate org show|set`.',
  acceptedDomains: 'The domains the organization receives mail for (Exchange: `New-/Get-/Remove-AcceptedDomain`). CLI: `mailgate domain add|list|remove`.',
  inboundConnectors:
    'How mail from a known source is recognised, by verified client certificate or by source IP (Exchange: `New-/Set-InboundConnector`). CLI: `mailgate connector add|set|list|show|remove`.',
  receiveConnectors: 'The SMTP listeners (Exchange Server receive connectors). CLI: `mailgate listener add|set|list|show|remove`.',
  'receiveConnectors[].tls': 'TLS of one listener.',
  lists: 'IP/CIDR and sender-domain allow and block lists. CLI: `mailgate list allow|block add|list|remove`.',
  'lists.allow': 'The allow list: its only effect is to exempt from a listener\'s `defaultDeny`.',
  'lists.block': 'The block list: refused at connect (IP) or MAIL FROM (IP, sender domain); wins over the allow list.',
  routes: 'Where accepted mail goes: a pickup folder, an SMTP next hop or an MX lookup. CLI: `mailgate route add|set|list|show|remove`.',
  users: 'SMTP AUTH accounts. CLI: `mailgate user add|passwd|list|remove`.',
  queue: 'Delivery retries, backoff and expiry. CLI: `mailgate queue …`.',
  trace: 'The message trace. CLI: `mailgate trace search|show`.',
  egress: 'The egress policy: outbound SMTP from internal ranges is blocked except from the relay and named exceptions. CLI: `mailgate egress show|set|render|check`.',
  'egress.exceptions[]': 'A named exception: sources that may still reach the blocked ports, until its expiry date.',
};

/** The pattern of a domain name setting, so the docs can say "domain name" instead of the regex. */
const DOMAIN_PATTERN = (z.toJSONSchema(acceptedDomainSchema) as JsonSchema).properties?.['domainName']?.pattern;

function isDomainPattern(p: string | undefined): boolean {
  return p !== undefined && p === DOMAIN_PATTERN;
}

function code(v: unknown): string {
  return '`' + JSON.stringify(v) + '`';
}

/** A short human type: `boolean`, `integer 0–65535`, `` `a` \| `b` ``, `list of domain name`. */
function typeOf(s: JsonSchema, path: string): string {
  if (s.enum) return s.enum.map((e) => code(e)).join(' | ');
  switch (s.type) {
    case 'string':
      if (IP_PATHS.has(path)) return 'IP address or CIDR (IPv4 or IPv6)';
      if (isDomainPattern(s.pattern)) return 'domain name';
      if (s.pattern) return `string matching \`${s.pattern}\``;
      return s.minLength ? 'non-empty string' : 'string';
    case 'integer':
    case 'number': {
      const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
      const lo = s.minimum !== undefined ? `≥ ${s.minimum}` : s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : '';
      const range = s.minimum !== undefined && max !== undefined ? `${s.minimum}–${max}` : [lo, max !== undefined ? `≤ ${max}` : ''].filter(Boolean).join(', ');
      return range ? `${s.type} ${range}` : s.type;
    }
    case 'array':
      return s.items ? `list of ${typeOf(s.items, `${path}[]`)}` : 'list';
    case 'object':
      return 'object';
    default:
      return s.type ?? 'any';
  }
}

function defaultOf(s: JsonSchema, required: boolean): string {
  if (s.default !== undefined) return code(s.default);
  return required ? '*required*' : '(unset)';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

interface Row {
  path: string;
  type: string;
  dflt: string;
  description: string;
}

/** Walk one object schema: rows for its leaves, and nested objects as their own sections. */
function walkObject(path: string, s: JsonSchema, sections: { path: string; schema: JsonSchema; rows: Row[] }[]): void {
  const rows: Row[] = [];
  sections.push({ path, schema: s, rows });
  const required = new Set(s.required ?? []);
  for (const [key, child] of Object.entries(s.properties ?? {})) {
    const childPath = path ? `${path}.${key}` : key;
    if (child.type === 'object' && child.properties) {
      walkObject(childPath, child, sections);
    } else if (child.type === 'array' && child.items?.type === 'object' && child.items.properties) {
      walkObject(`${childPath}[]`, { ...child.items, description: child.description ?? child.items.description }, sections);
    } else {
      rows.push({ path: childPath, type: typeOf(child, childPath), dflt: defaultOf(child, required.has(key)), description: child.description ?? '' });
    }
  }
}

/**
 * The custom checks of the schema, by setting path: `.refine` rules with a message (cross-field
 * rules), and the message-less `superRefine` on strings, which in this schema is only the IP/CIDR
 * check (`ipOrCidr`: its message comes from core/cidr at validation time).
 */
function customChecks(): { rules: { path: string; message: string }[]; ipPaths: Set<string> } {
  const out: { path: string; message: string }[] = [];
  const ipPaths = new Set<string>();
  const visit = (schema: z.core.$ZodType, path: string): void => {
    const def = schema._zod.def as unknown as Record<string, unknown> & { type: string; checks?: z.core.$ZodCheck[] };
    for (const c of def.checks ?? []) {
      const cd = c._zod.def as unknown as { check: string; path?: PropertyKey[]; error?: () => unknown };
      if (cd.check !== 'custom') continue;
      const msg = cd.error?.();
      if (msg === undefined && def.type === 'string') {
        ipPaths.add(path);
        continue;
      }
      const message = typeof msg === 'string' ? msg : typeof msg === 'object' && msg !== null && 'message' in msg ? String(msg.message) : '(custom rule)';
      out.push({ path: [path, ...(cd.path ?? []).map(String)].filter(Boolean).join('.'), message });
    }
    if (def.type === 'default' || def.type === 'optional' || def.type === 'prefault' || def.type === 'nullable') visit(def['innerType'] as z.core.$ZodType, path);
    else if (def.type === 'array') visit(def['element'] as z.core.$ZodType, `${path}[]`);
    else if (def.type === 'object') {
      for (const [k, v] of Object.entries(def['shape'] as Record<string, z.core.$ZodType>)) visit(v, path ? `${path}.${k}` : k);
    }
  };
  visit(configSchema, '');
  return { rules: out, ipPaths };
}

const CHECKS = customChecks();
const IP_PATHS = CHECKS.ipPaths;

/** The whole of docs/settings.md. */
export function renderSettings(): string {
  const json = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const sections: { path: string; schema: JsonSchema; rows: Row[] }[] = [];
  walkObject('', json, sections);
  const lines: string[] = [
    '# Settings',
    '',
    '<!-- GENERATED by scripts/gen-settings.ts from src/config/schema.ts: do not edit by hand.',
    '     After changing the schema run `node --import tsx scripts/gen-settings.ts`;',
    '     test/docs/settings.test.ts fails while this file is out of date. -->',
    '',
    'Every setting of the configuration model, generated from the zod schema (`src/config/schema.ts`),',
    'the one place a setting is declared. Names follow Exchange Online. The configuration lives in the',
    'store (`<data>/mailgate.db`), versioned; YAML moves it in and out (`mailgate config apply -f`,',
    '`mailgate config export`), and `mailgate config show --defaults` prints every default below.',
    'A path ending in `[]` is a list of objects; each row is one field of every element.',
    'Unknown settings are refused (`unknown setting`), as are values of the wrong type, with the file',
    'and the path named.',
    '',
  ];
  for (const sec of sections) {
    if (sec.path === '') continue;
    if (sec.rows.length === 0 && !SECTIONS[sec.path]) continue;
    lines.push(`## \`${sec.path}\``, '');
    const intro = SECTIONS[sec.path] ?? SECTIONS[sec.path.replace(/\[\]$/, '')] ?? sec.schema.description;
    if (intro) lines.push(intro, '');
    if (sec.rows.length === 0) continue;
    lines.push('| Setting | Type | Default | Description |', '|---|---|---|---|');
    for (const r of sec.rows) lines.push(`| \`${r.path}\` | ${cell(r.type)} | ${cell(r.dflt)} | ${cell(r.description)} |`);
    lines.push('');
  }
  const rules = CHECKS.rules;
  if (rules.length) {
    lines.push('## Cross-field rules', '', 'Checked when a configuration is loaded; a violation is reported at the path shown.', '');
    lines.push('| Path | Rule |', '|---|---|');
    for (const r of rules) lines.push(`| \`${r.path}\` | ${cell(r.message)} |`);
    lines.push('');
  }
  return lines.join('\n');
}

function main(): void {
  const text = renderSettings();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(SETTINGS_MD, 'utf8');
    } catch {
      // missing file: stale
    }
    if (current !== text) {
      process.stderr.write('docs/settings.md is out of date: run `node --import tsx scripts/gen-settings.ts`\n');
      process.exit(1);
    }
    return;
  }
  writeFileSync(SETTINGS_MD, text);
  process.stdout.write(`wrote ${SETTINGS_MD}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
