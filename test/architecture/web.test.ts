/**
 * The web console's boundaries (DESIGN.md: web/ imports nothing of src, it talks HTTP only):
 * every import in src/web — static or dynamic, .ts or .tsx — stays inside src/web or names one of
 * the browser libraries the bundle may hold; and no file builds HTML from strings
 * (`dangerouslySetInnerHTML`, `innerHTML`, `outerHTML`, `insertAdjacentHTML`, `document.write`):
 * Preact escapes every text it renders, and these are the ways around that.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const WEB = resolve(import.meta.dirname, '..', '..', 'src', 'web');
const PACKAGES = /^(preact|preact\/hooks|preact\/jsx-runtime|uplot|uplot\/dist\/uPlot\.min\.css)$/;
const SPEC = /(?:^\s*(?:import|export)\s+(?:type\s+)?[^'";]*?from\s+|^\s*import\s+|\bimport\s*\(\s*)['"]([^'"]+)['"]/gm;
const HTML_SINKS = /dangerouslySetInnerHTML|\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write/;

function files(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) files(p, out);
    else if (/\.(ts|tsx|mjs|js|css|html)$/.test(n)) out.push(p);
  }
  return out;
}

test('src/web imports only src/web and its browser libraries', () => {
  const problems: string[] = [];
  for (const f of files(WEB).filter((x) => /\.(ts|tsx)$/.test(x))) {
    for (const m of readFileSync(f, 'utf8').matchAll(SPEC)) {
      const spec = m[1] ?? '';
      const rel = relative(WEB, f);
      if (spec.startsWith('.')) {
        const target = relative(WEB, resolve(dirname(f), spec));
        if (target.startsWith('..')) problems.push(`${rel} imports ${spec}: outside src/web`);
      } else if (!PACKAGES.test(spec)) problems.push(`${rel} imports package ${spec}: not a console library`);
    }
  }
  assert.deepEqual(problems, []);
});

test('src/web never builds HTML from strings', () => {
  const problems = files(WEB)
    .filter((f) => !f.endsWith('.test.ts'))
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').map((line, i) => ({ f, line, i })))
    .filter(({ line }) => HTML_SINKS.test(line))
    .map(({ f, i, line }) => `${relative(WEB, f)}:${i + 1}: ${line.trim()}`);
  assert.deepEqual(problems, []);
});
