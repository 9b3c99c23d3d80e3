#!/usr/bin/env node
/**
 * @module scripts/build-web
 * Bundles the web console (src/web/app, Preact + uPlot, TSX) with esbuild into one directory:
 * `index.html`, `assets/app-HASH.js` and `assets/app-HASH.css`. Content-hashed names let the admin
 * listener serve assets as immutable while index.html is revalidated. Nothing comes from a CDN
 * or another origin, and index.html holds no inline script or style (the console's CSP forbids
 * both). Type-checking is `tsc -p src/web/tsconfig.json` (npm run check), not esbuild's job.
 * Usage: node scripts/build-web.mjs [--out DIR]   (default dist/web)
 */
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const out = resolve(outIdx >= 0 && args[outIdx + 1] ? args[outIdx + 1] : join(root, 'dist', 'web'));

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
const result = await build({
  entryPoints: { app: join(root, 'src/web/app/main.tsx') },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  legalComments: 'none',
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => resolve(root, p));
const js = outputs.find((p) => p.endsWith('.js'));
const css = outputs.find((p) => p.endsWith('.css'));
if (!js || !css) throw new Error(`build-web: expected a .js and a .css output, got ${outputs.join(', ')}`);
const asset = (p) => 'assets/' + basename(p);
writeFileSync(
  join(out, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>mailgate console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${asset(css)}">
<script type="module" src="${asset(js)}"></script>
</head>
<body>
<div id="app"><noscript>The mailgate console needs JavaScript.</noscript></div>
</body>
</html>
`,
);
console.log(`web console built: ${relative(process.cwd(), out) || '.'} (${asset(js)}, ${asset(css)})`);
