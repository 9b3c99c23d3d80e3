/**
 * The browser test harness: Debian's Chromium driven by playwright-core (no browser download).
 * `openBrowser(t)` finds /usr/bin/chromium (or `command -v chromium`); without it the test is
 * skipped with a message, except under CI=true, where it fails (CI installs it: .ci/run). Each
 * browser gets a fresh temp profile, removed on close. `buildConsole()` bundles the web console
 * once per test file into a temp dir (esbuild: well under a second); the gateway serves it when
 * started with MAILGATE_WEB_DIR. Helpers log in, run axe-core in the page (serious or critical
 * violations fail, with their ids and targets), record dialogs (an XSS would open one) and save
 * screenshots under test/browser/screenshots/ (git-ignored) for people to look at.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, removeDir, tempDir } from './gateway.ts';

export const SCREENSHOTS = join(ROOT, 'test', 'browser', 'screenshots');

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

/** The Chromium binary, or undefined. */
export function findChromium(): string | undefined {
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  const r = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

export interface TestBrowser {
  context: BrowserContext;
  /** A new page whose dialogs (alert, confirm, prompt) are recorded in `dialogs` and dismissed. */
  page(opts?: { width?: number; height?: number }): Promise<Page>;
  /** Messages of every dialog any page opened. */
  dialogs: string[];
  /** Uncaught errors in any page. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Launch Chromium, or skip `t` (fail under CI=true) when it is absent; undefined when skipped. */
export async function openBrowser(t: TestContext): Promise<TestBrowser | undefined> {
  const exe = findChromium();
  if (!exe) {
    if (process.env.CI === 'true') assert.fail('chromium is not installed (CI must install it: .ci/run)');
    t.skip('chromium not installed (apt-get install chromium): browser test skipped');
    return undefined;
  }
  const profile = tempDir('mailgate-chromium-');
  const context = await chromium.launchPersistentContext(profile, { executablePath: exe, headless: true, args: FLAGS, viewport: { width: 1280, height: 800 }, timeout: 60_000 });
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  context.on('page', (p) => {
    p.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss().catch(() => undefined);
    });
    p.on('pageerror', (e) => pageErrors.push(e.message));
  });
  return {
    context,
    dialogs,
    pageErrors,
    async page(opts = {}) {
      const p = await context.newPage();
      if (opts.width) await p.setViewportSize({ width: opts.width, height: opts.height ?? 800 });
      p.setDefaultTimeout(30_000); // a bound for a loaded machine, not a timing assertion
      return p;
    },
    async close() {
      await context.close();
      removeDir(profile);
    },
  };
}

/** Bundle the console into a fresh temp dir (removed by the returned cleanup). */
export function buildConsole(): { dir: string; remove(): void } {
  const dir = tempDir('mailgate-web-');
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs'), '--out', dir], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `build-web failed:\n${r.stdout}${r.stderr}`);
  return { dir, remove: () => removeDir(dir) };
}

/** Open the console at `url` and log in with an API token; resolves once the shell shows. */
export async function loginWithToken(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('radio', { name: 'an API token' }).check();
  await page.getByLabel('API token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Open the console at `url` and log in with a console user's name and password. */
export async function loginWithPassword(page: Page, url: string, user: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('radio', { name: 'a user name and password' }).check();
  await page.getByLabel('User name', { exact: true }).fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

let axeSource: string | undefined;

/** Run axe-core on the page; fails listing every serious or critical violation (id, impact, targets). */
export async function checkAxe(page: Page, what: string): Promise<void> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol, which the page's CSP (script-src 'self') does not govern.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // axe is the global axe.min.js just defined; typed loosely here (the test's tsconfig has no DOM lib).
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const r = await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id} (${v.help}): ${v.targets.join(', ')}`),
    [],
    `axe on ${what}`,
  );
}

/** Save a full-page screenshot as test/browser/screenshots/NAME.png (git-ignored; for people to look at). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
