/**
 * @module test/helpers/browser
 * PROVISIONAL (branch wc) until branch wa's harness lands: Debian's Chromium through
 * playwright-core, skipped with a message when absent (run under CI=true), the console built
 * once into dist/web, login with a token through the login page, axe-core (serious/critical
 * violations fail) and screenshots into test/browser/screenshots/.
 * Touches: a Chromium child process with a temp profile, dist/web, test/browser/screenshots/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './gateway.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** A skip reason when Chromium is absent (false under CI=true: the test must run and fail). */
export function browserSkip(): string | false {
  if (CHROMIUM || process.env.CI === 'true') return false;
  return 'Debian chromium not installed (apt-get install chromium); the browser tests need it';
}

let built = false;
function buildOnce(): void {
  if (built) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs')], { cwd: ROOT, stdio: 'ignore' });
  built = true;
}

/** Build the console and launch headless Chromium (playwright gives it a fresh temp profile, removed on close). */
export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('no chromium at /usr/bin/chromium');
  buildOnce();
  const args = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

/** Log in through the login page with an API token. */
export async function loginWithToken(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('API token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Run axe-core on the page; fail on serious or critical violations, naming each and its targets. */
export async function checkAxe(page: Page): Promise<void> {
  // Evaluated through the devtools protocol: the console's CSP (script-src 'self') refuses an inline script tag.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (o?: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run();
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  if (violations.length) throw new Error(`axe: ${violations.join('\n')}`);
}

/** Save a full-page screenshot as test/browser/screenshots/NAME.png (git-ignored). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = join(ROOT, 'test', 'browser', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
