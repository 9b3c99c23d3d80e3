/**
 * The console's Direct Send readiness, Configuration and Audit pages in Debian's Chromium
 * (playwright-core) against a real `mailgate serve` fed real SMTP on loopback:
 * - Direct Send from 127.0.0.5 shows on the readiness page (its `<script>` subject as text);
 *   "Adopt as connector" shows the connector, the replay and the diff, refuses to save until the
 *   loopback warning is acknowledged, then saves a new configuration version; the next message
 *   from that IP is attributed to the new connector (trace API).
 * - A list edit with an invalid IP shows the error beside the field; a valid one is reviewed as a
 *   diff and saved; history shows its diff; rollback restores the list.
 * - An Exchange Online message trace export uploaded through the page shows its report and plan,
 *   and the plan's PowerShell downloads.
 * axe (no serious/critical violations) and a screenshot on every page, and the readiness page at
 * phone width. Skips without Chromium unless CI=true.
 */
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { messageTraceText } from '../audit/fixtures.ts';
import { buildConsole, checkAxe, findChromium, loginWithToken, openBrowser, screenshot, type TestBrowser } from '../helpers/browser.ts';
import { applyConfig, baseConfig, cli, freePort, nextHopRoute, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';

// Without Chromium (outside CI) nothing is started; each test skips with the harness's message.
const present = Boolean(findChromium()) || process.env.CI === 'true';
let dir = '';
let sink: Sink | undefined;
let gw: Gateway | undefined;
let web: { dir: string; remove(): void } | undefined;
let browser: TestBrowser | undefined;
let mx = 0;
let admin = 0;
let token = '';
const base = (): string => `http://127.0.0.1:${admin}`;

async function apiGet<T>(path: string): Promise<T> {
  const r = await fetch(base() + path, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200, `${path}: ${r.status} ${await r.clone().text()}`);
  return (await r.json()) as T;
}

async function apiPatch(path: string, body: object): Promise<void> {
  const r = await fetch(base() + path, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(r.status, 200, `${path}: ${r.status} ${await r.text()}`);
}

async function send(ip: string, from: string, subject: string): Promise<void> {
  const c = await SmtpTestClient.connect({ port: mx, localAddress: ip });
  await c.cmd('EHLO printer.example.com');
  const r = await c.sendMail(from, ['user@example.com'], message({ from, to: 'user@example.com', subject }));
  assert.equal(r.eod?.code, 250, r.eod?.text);
  await c.quit();
}

type TraceRow = { id: string; client_ip: string; attribution: string | null; connector: string | null; subject: string | null };

/** Trace rows from `ip` once there are at least `n` (the writer flushes in batches: bounded wait). */
async function traced(ip: string, n: number): Promise<TraceRow[]> {
  for (const end = Date.now() + 30_000; ; ) {
    const rows = await apiGet<TraceRow[]>(`/api/v1/trace?since=1h&clientIp=${ip}`);
    if (rows.length >= n) return rows;
    if (Date.now() > end) throw new Error(`the trace shows ${rows.length} of ${n} messages from ${ip}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let loggedIn = false;

/**
 * A logged-in page of the one browser of this file (opened by the first test; the tests run in
 * order). The browser's pages share the session cookie: only the first one logs in.
 */
async function newPage(t: TestContext, width = 1280, height = 900): Promise<Page | undefined> {
  browser ??= await openBrowser(t);
  if (!browser) return undefined;
  const page = await browser.page({ width, height });
  if (loggedIn) {
    await page.goto(`${base()}/`);
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  } else {
    await loginWithToken(page, `${base()}/`, token);
    loggedIn = true;
  }
  return page;
}

/** The page fits a phone's width: nothing pushes it sideways (tables scroll inside their wrapper). */
async function fitsWidth(page: Page, what: string): Promise<void> {
  const r = await page.evaluate(() => {
    type El = { tagName: string; className: string; textContent: string | null; getBoundingClientRect(): { right: number } };
    const d = globalThis as unknown as { document: { documentElement: { scrollWidth: number }; querySelectorAll(s: string): El[] }; innerWidth: number };
    const wide = [...d.document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > d.innerWidth + 1);
    // The innermost ones name the culprit.
    const names = wide.slice(-3).map((e) => `${e.tagName.toLowerCase()}.${e.className}: ${(e.textContent ?? '').slice(0, 60)}`);
    return { scroll: d.document.documentElement.scrollWidth, width: d.innerWidth, names };
  });
  assert.ok(r.scroll <= r.width, `${what}: ${r.scroll}px wide in a ${r.width}px viewport; ${r.names.join(' | ')}`);
}

/** No page opened a dialog (an XSS would) or threw. */
function clean(): void {
  assert.deepEqual(browser?.dialogs ?? [], [], 'no dialog fired');
  assert.deepEqual(browser?.pageErrors ?? [], [], 'no uncaught error in a page');
}

before(async () => {
  if (!present) return;
  dir = tempDir('mailgate-browser-wc-');
  web = buildConsole();
  sink = await startSink();
  mx = await freePort();
  admin = await freePort();
  applyConfig(dir, { ...baseConfig({ mx, submission: await freePort(), admin }), routes: [nextHopRoute(sink.port)] });
  const t = cli(dir, ['token', 'add', 'browser-admin', '--scope', 'admin']);
  assert.equal(t.code, 0, t.stderr);
  token = t.stdout.trim();
  gw = await startGateway(dir, [mx, admin], { env: { MAILGATE_WEB_DIR: web.dir } });
});

after(async () => {
  await browser?.close();
  await gw?.stop();
  await sink?.close();
  web?.remove();
  if (dir) removeDir(dir);
});

test('readiness: a Direct Send source is adopted as a connector after preview and replay; its next message is attributed to it', async (t) => {
  await send('127.0.0.5', 'printer@example.com', 'scan 1');
  await send('127.0.0.5', 'printer@example.com', '<script>alert(1)</script>');
  await traced('127.0.0.5', 2);
  const page = await newPage(t);
  if (!page) return;
  await page.goto(`${base()}/#/direct-send`);
  const row = page.getByRole('article', { name: '127.0.0.5 printer@example.com' });
  await row.waitFor();
  assert.match(await row.innerText(), /device-or-app[\s\S]*Messages\s+2\b/);
  // The subject from the trace is text, not markup.
  await page.getByText('Subject: <script>alert(1)</script>').waitFor();
  await checkAxe(page, 'the readiness page');
  await screenshot(page, 'wc-readiness');

  const versionBefore = (await apiGet<{ version: number }>('/api/v1/config')).version;
  await row.getByRole('button', { name: /Adopt as connector/ }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText('Direct Send 127.0.0.5', { exact: true }).waitFor();
  const text = await dialog.innerText();
  assert.match(text, /IP 127\.0\.0\.5\/32/);
  assert.match(text, /Of the source's 2 messages \(now: 2 direct-send\), 2 would be attributed to Direct Send 127\.0\.0\.5/);
  assert.match(text, /\+\s+- name: Direct Send 127\.0\.0\.5/);
  assert.match(text, /Warning: client IP 127\.0\.0\.5 is loopback/);
  await checkAxe(page, 'the adopt preview dialog');
  await screenshot(page, 'wc-readiness-adopt-preview');
  const save = dialog.getByRole('button', { name: `Save as configuration version ${versionBefore + 1}` });
  await save.click();
  await dialog.getByText('Tick the box to confirm you have checked the warnings.').waitFor();
  assert.equal((await apiGet<{ version: number }>('/api/v1/config')).version, versionBefore, 'nothing saved without the acknowledgement');
  await dialog.getByLabel(/I have checked the warnings/).check();
  await save.click();
  await page.getByText(`Saved configuration version ${versionBefore + 1}: connector Direct Send 127.0.0.5.`).waitFor();
  const cfg = await apiGet<{ version: number; config: { inboundConnectors: { name: string; senderIPAddresses: string[] }[] } }>('/api/v1/config');
  assert.deepEqual(cfg.config.inboundConnectors.map((c) => [c.name, c.senderIPAddresses]), [['Direct Send 127.0.0.5', ['127.0.0.5/32']]]);
  const history = await apiGet<{ version: number; actor: string }[]>('/api/v1/config/history?limit=1');
  assert.equal(history[0]?.actor, 'browser-admin');
  await row.getByText('Connector Direct Send 127.0.0.5 now covers 127.0.0.5.').waitFor();

  // The gateway picks the version up within a second or so: send until a message is attributed (bounded).
  let attributed: TraceRow | undefined;
  for (let i = 0; i < 20 && !attributed; i++) {
    await send('127.0.0.5', 'printer@example.com', `after adopt ${i}`);
    const rows = await traced('127.0.0.5', 3 + i);
    attributed = rows.find((r) => r.subject === `after adopt ${i}` && r.connector === 'Direct Send 127.0.0.5');
    if (!attributed) await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(attributed, 'a message sent after the adoption is attributed to the new connector');
  assert.equal(attributed.attribution, 'connector');

  // Create user for another device: the password is shown once and only its hash is stored.
  await send('127.0.0.6', 'scanner@example.com', 'scan to mail');
  await traced('127.0.0.6', 1);
  await page.getByRole('button', { name: 'Refresh' }).click();
  const scanner = page.getByRole('article', { name: '127.0.0.6 scanner@example.com' });
  await scanner.getByRole('button', { name: /Create user/ }).click();
  await page.getByRole('dialog').getByText('may send as scanner@example.com only').waitFor();
  await checkAxe(page, 'the create user dialog');
  await page.getByRole('dialog').getByRole('button', { name: 'Create the user' }).click();
  const secret = page.locator('code.secret');
  await secret.waitFor();
  const password = await secret.innerText();
  assert.ok(password.length >= 20);
  await screenshot(page, 'wc-readiness-user-created');
  const users = await apiGet<{ name: string; sendAs: string[] }[]>('/api/v1/users');
  assert.deepEqual(users, [{ name: 'scanner@example.com', sendAs: ['scanner@example.com'] }]);
  await page.getByRole('button', { name: 'I have copied the password' }).click();
  assert.equal(await secret.count(), 0, 'the password is gone from the page');
  await scanner.getByText('SMTP AUTH user scanner@example.com may send as scanner@example.com.').waitFor();

  // Phone width: the page stays usable (the table scrolls inside its wrapper).
  const phone = (await newPage(t, 390, 844))!;
  await phone.goto(`${base()}/#/direct-send`);
  await phone.getByRole('article', { name: '127.0.0.5 printer@example.com' }).waitFor();
  await checkAxe(phone, 'the readiness page at phone width');
  await fitsWidth(phone, 'the readiness page');
  await screenshot(phone, 'wc-readiness-phone');
  await phone.close();
  await page.close();
  clean();
});

test('configuration: an invalid list entry shows its error inline; a valid edit is reviewed, saved, shown in history and rolled back', async (t) => {
  const page = await newPage(t);
  if (!page) return;
  await page.goto(`${base()}/#/configuration/lists`);
  const ips = page.getByRole('group', { name: 'block' }).getByLabel('ips');
  await ips.waitFor();
  await checkAxe(page, 'the configuration lists form');
  await ips.fill('300.1.1.1');
  await page.getByRole('button', { name: 'Review changes' }).click();
  const fieldError = page.locator('.field.invalid .field-error');
  await fieldError.waitFor();
  assert.match(await fieldError.innerText(), /^line 1: /);
  assert.equal(await ips.getAttribute('aria-invalid'), 'true');
  await page.getByText('lists.block.ips[0]', { exact: true }).waitFor();
  await screenshot(page, 'wc-config-inline-error');

  // Another admin's change lands between loading and saving: refused (409), nothing overwritten; reload, edit again.
  const loaded = (await apiGet<{ version: number }>('/api/v1/config')).version;
  await ips.fill('192.0.2.7/32');
  await page.getByRole('button', { name: 'Review changes' }).click();
  await page.getByRole('region', { name: `Changes to version ${loaded}` }).waitFor();
  await apiPatch('/api/v1/connectors/Direct%20Send%20127.0.0.5', { comment: 'changed elsewhere' });
  await page.getByRole('button', { name: `Save as version ${loaded + 1}` }).click();
  await page.getByText(`the configuration changed since version ${loaded} (now ${loaded + 1}): reload and edit again`).waitFor();
  const kept = await apiGet<{ config: { lists: { block: { ips: string[] } }; inboundConnectors: { comment: string }[] } }>('/api/v1/config');
  assert.deepEqual([kept.config.lists.block.ips, kept.config.inboundConnectors[0]?.comment], [[], 'changed elsewhere']);
  await page.getByRole('button', { name: 'Reload the configuration' }).click();
  await page.getByText(`Version ${loaded + 1}, saved`).waitFor();
  assert.equal(await ips.inputValue(), '', 'the form shows the version in force again');
  assert.equal(await page.getByText('reload and edit again').count(), 0, 'the refusal is gone with the reload');

  const before = (await apiGet<{ version: number }>('/api/v1/config')).version;
  await ips.fill('192.0.2.7/32');
  await page.getByRole('button', { name: 'Review changes' }).click();
  const review = page.getByRole('region', { name: `Changes to version ${before}` });
  await review.waitFor();
  assert.match(await review.innerText(), /\+\s+ips: \[192\.0\.2\.7\/32\]/);
  await page.getByLabel('Why (recorded in the history)').fill('block a scanner');
  await page.getByRole('button', { name: `Save as version ${before + 1}` }).click();
  await page.getByText(`Saved as configuration version ${before + 1}.`).waitFor();
  assert.deepEqual((await apiGet<{ config: { lists: { block: { ips: string[] } } } }>('/api/v1/config')).config.lists.block.ips, ['192.0.2.7/32']);

  await page.getByRole('link', { name: 'History' }).click();
  await page.getByRole('button', { name: `Diff of version ${before + 1}` }).click();
  const diff = page.getByRole('region', { name: `Version ${before} → ${before + 1}` });
  assert.match(await diff.innerText(), /192\.0\.2\.7/);
  assert.match(await page.getByRole('row').filter({ hasText: 'block a scanner' }).innerText(), /browser-admin/);
  await checkAxe(page, 'the configuration history');
  await screenshot(page, 'wc-config-history');
  await page.getByRole('button', { name: `Roll back to version ${before}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: `Roll back to version ${before}` }).click();
  await page.getByText(`Rolled back: version ${before + 2} equals version ${before}.`).waitFor();
  assert.deepEqual((await apiGet<{ config: { lists: { block: { ips: string[] } } } }>('/api/v1/config')).config.lists.block.ips, []);

  // Every section's form: accessible, and an error deep in a list item lands on its field.
  for (const [tab, name] of [['organization', 'Organization'], ['acceptedDomains', 'Accepted domains'], ['inboundConnectors', 'Inbound connectors'], ['receiveConnectors', 'Receive connectors'], ['routes', 'Routes']] as const) {
    await page.getByRole('link', { name, exact: true }).click();
    await page.getByRole('form', { name: new RegExp(`^${name} \\(version \\d+\\)$`) }).waitFor();
    await checkAxe(page, `the configuration ${tab} form`);
    await screenshot(page, `wc-config-${tab}`);
  }
  // A new item from its template: an accepted domain added, reviewed and saved.
  await page.getByRole('link', { name: 'Accepted domains', exact: true }).click();
  await page.getByRole('button', { name: 'Add to Accepted domains' }).click();
  await page.getByRole('group', { name: 'Accepted domains 2', exact: true }).getByLabel('domainName').fill('example.net');
  await page.getByRole('button', { name: 'Review changes' }).click();
  const added = (await apiGet<{ version: number }>('/api/v1/config')).version + 1;
  await page.getByRole('button', { name: `Save as version ${added}` }).click();
  await page.getByText(`Saved as configuration version ${added}.`).waitFor();
  const domains = await apiGet<{ config: { acceptedDomains: { domainName: string; domainType: string }[] } }>('/api/v1/config');
  assert.deepEqual(domains.config.acceptedDomains.map((d) => [d.domainName, d.domainType]), [['example.com', 'Authoritative'], ['example.net', 'Authoritative']]);

  await page.getByRole('link', { name: 'Inbound connectors', exact: true }).click();
  const connector = page.getByRole('group', { name: 'Inbound connectors 1: Direct Send 127.0.0.5', exact: true });
  await connector.getByLabel('senderIPAddresses').fill('127.0.0.5/32\nnot-an-ip');
  await page.getByRole('button', { name: 'Review changes' }).click();
  await connector.getByText(/^line 2: /).waitFor();
  await page.getByText('inboundConnectors[0].senderIPAddresses[1]', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Discard changes' }).click();
  assert.equal(await connector.getByLabel('senderIPAddresses').inputValue(), '127.0.0.5/32');

  const phone = (await newPage(t, 390, 844))!;
  await phone.goto(`${base()}/#/configuration/inboundConnectors`);
  await phone.getByRole('group', { name: 'Inbound connectors 1: Direct Send 127.0.0.5', exact: true }).waitFor();
  await checkAxe(phone, 'the configuration form at phone width');
  await fitsWidth(phone, 'the configuration form');
  await screenshot(phone, 'wc-config-phone');
  await phone.close();
  await page.close();
  clean();
});

test('audit: an uploaded message trace export shows its report and staged plan; the PowerShell downloads', async (t) => {
  const page = await newPage(t);
  if (!page) return;
  await page.goto(`${base()}/#/audit`);
  await page.getByLabel('Export file').setInputFiles({ name: 'trace.csv', mimeType: 'text/csv', buffer: Buffer.from(messageTraceText(Date.now())) });
  await page.getByLabel('Import name').fill('tenant1');
  await page.getByLabel('Tenant domains').fill('contoso.com');
  await page.getByLabel('Date format').selectOption('mdy');
  await checkAxe(page, 'the audit upload form');
  await page.getByRole('button', { name: 'Upload and import' }).click();
  await page.getByText(/^Imported tenant1: trace\.csv/).waitFor();
  const sources = page.getByRole('list', { name: 'Direct Send sources in tenant1' });
  await sources.getByRole('article', { name: '203.0.113.10 scanner@contoso.com' }).waitFor();
  assert.match(await sources.innerText(), /Get-MessageTraceV2 -SenderAddress "scanner@contoso\.com" -FromIP 203\.0\.113\.10/);
  await page.getByText(/^Stage 1: /).waitFor();
  await checkAxe(page, 'the audit import with report and plan');
  await screenshot(page, 'wc-audit');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: "Download the plan's PowerShell" }).click()]);
  assert.equal(download.suggestedFilename(), 'direct-send-plan.ps1');
  const script = readFileSync((await download.path())!, 'utf8');
  assert.match(script, /New-InboundConnector|Set-OrganizationConfig/);
  assert.match(script, /contoso\.com/);

  // The same import on the readiness page: Exchange's PowerShell per source, the plan linked, no adopt.
  await page.getByRole('link', { name: 'on the readiness page' }).click();
  const imported = page.getByRole('article', { name: '203.0.113.10 scanner@contoso.com' });
  await imported.waitFor();
  assert.match(await imported.innerText(), /Get-MessageTraceV2 -SenderAddress "scanner@contoso\.com"/);
  assert.equal(await page.getByRole('button', { name: /Adopt as connector/ }).count(), 0, 'imported sources are migrated in Exchange, not adopted into mailgate');
  await page.getByRole('link', { name: 'the staged plan for tenant1' }).waitFor();
  await checkAxe(page, 'the readiness page over an import');
  await screenshot(page, 'wc-readiness-import');

  const phone = (await newPage(t, 390, 844))!;
  await phone.goto(`${base()}/#/audit/tenant1`);
  await phone.getByRole('article', { name: '203.0.113.10 scanner@contoso.com' }).waitFor();
  await checkAxe(phone, 'the audit page at phone width');
  await fitsWidth(phone, 'the audit page');
  await screenshot(phone, 'wc-audit-phone');
  await phone.close();

  // A read-only login sees the same pages without the actions its scope cannot use.
  const read = cli(dir, ['token', 'add', 'browser-read', '--scope', 'read']);
  assert.equal(read.code, 0, read.stderr);
  await page.getByRole('button', { name: 'Log out' }).click();
  await loginWithToken(page, `${base()}/`, read.stdout.trim());
  await page.goto(`${base()}/#/direct-send`);
  await page.getByRole('article', { name: '127.0.0.6 scanner@example.com' }).waitFor();
  assert.equal(await page.getByRole('button', { name: /Adopt as connector|Create user/ }).count(), 0);
  await page.goto(`${base()}/#/configuration/lists`);
  await page.getByText('Read only: changing the configuration needs an admin login.').waitFor();
  assert.equal(await page.getByRole('group', { name: 'block' }).getByLabel('ips').isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: 'Review changes' }).count(), 0);
  await page.goto(`${base()}/#/audit`);
  await page.getByRole('heading', { name: 'Imports' }).waitFor();
  assert.equal(await page.getByLabel('Export file').count(), 0, 'no upload without admin');
  await checkAxe(page, 'the audit page for a read-only login');
  await page.close();
  clean();
});
