/**
 * The web console in Debian's Chromium against a real `mailgate serve` fed real SMTP on loopback:
 * first run (no token, no console user) makes a first-login token in a 0600 file and logs where
 * it is; logging in with it shows the mail just sent on the dashboard by attribution (and a
 * refused relay attempt by its reply code); a console
 * user logs in with name and password and out again; a subject with <script> and a HELO with
 * HTML render as text (no dialog, no script ran); axe finds no serious or critical violation on
 * the login page or the dashboard (laptop and phone width); screenshots go to
 * test/browser/screenshots/ for review.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { applyConfig, baseConfig, cli, freePort, nextHopRoute, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';
import { buildConsole, checkAxe, findChromium, loginWithPassword, loginWithToken, openBrowser, screenshot } from '../helpers/browser.ts';

const XSS_SUBJECT = '<script>window.__pwned = "subject"; alert("subject")</script>';
const XSS_HELO = '<img/src=x/onerror=alert("helo")>';

let dir = '';
let gw: Gateway | undefined;
let sink: Sink | undefined;
let web: { dir: string; remove(): void } | undefined;
let url = '';
let firstToken = '';
let refusedCode = '';

async function send(port: number, opts: { helo: string; from: string; subject: string; localAddress?: string }): Promise<void> {
  const c = await SmtpTestClient.connect({ port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  try {
    assert.equal((await c.cmd(`EHLO ${opts.helo}`)).code, 250, `EHLO ${opts.helo}`);
    const r = await c.sendMail(opts.from, ['user@example.com'], message({ from: opts.from, to: 'user@example.com', subject: opts.subject }));
    assert.equal(r.eod?.code, 250, `${opts.from}: ${JSON.stringify(r)}`);
  } finally {
    await c.quit();
  }
}

/** A relay attempt (outside sender, outside recipient): refused at RCPT; returns the reply. */
async function relayAttempt(port: number): Promise<string> {
  const c = await SmtpTestClient.connect({ port });
  try {
    assert.equal((await c.cmd('EHLO relay.example.net')).code, 250);
    const r = await c.sendMail('spam@example.net', ['victim@example.org'], message({ from: 'spam@example.net', to: 'victim@example.org', subject: 'relay?' }));
    const rcpt = r.rcpts[0];
    assert.ok(rcpt && rcpt.code >= 500, `relay refused: ${JSON.stringify(r)}`);
    return rcpt.text;
  } finally {
    await c.quit();
  }
}

interface Totals {
  traffic: { totals: Record<string, number> };
}

/** The dashboard document through the API (the trace writer flushes on a timer: poll, bounded). */
async function waitForTotals(want: Record<string, number>): Promise<void> {
  const until = Date.now() + 60_000; // a bound for a loaded machine, not a timing assertion
  let last: unknown;
  while (Date.now() < until) {
    const r = await fetch(`${url}/api/v1/dashboard?window=1h`, { headers: { authorization: `Bearer ${firstToken}` } });
    if (r.ok) {
      const d = (await r.json()) as Totals;
      last = d.traffic.totals;
      if (Object.entries(want).every(([k, v]) => d.traffic.totals[k] === v)) return;
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.fail(`dashboard totals never reached ${JSON.stringify(want)}; last ${JSON.stringify(last)}`);
}

before(async () => {
  if (!findChromium() && process.env.CI !== 'true') return; // each test skips with the message
  dir = tempDir('mailgate-browser-');
  web = buildConsole();
  sink = await startSink();
  const [mx, submission, admin] = [await freePort(), await freePort(), await freePort()];
  const base = baseConfig({ mx, submission, admin });
  applyConfig(dir, {
    ...base,
    receiveConnectors: (base.receiveConnectors ?? []).map((l) => ({ ...l, tls: { mode: 'none' as const } })),
    inboundConnectors: [{ name: 'Scanners', connectorType: 'OnPremises', senderIPAddresses: ['127.0.0.2'] }],
    routes: [nextHopRoute(sink.port)],
    // In Audit: matched mail is only recorded ("would have"), so the counts below are unchanged.
    transportRules: [{ name: 'Quarantine Direct Send', priority: 0, mode: 'Audit', conditions: { attributionIs: ['direct-send'] }, actions: { quarantine: true } }],
  });
  gw = await startGateway(dir, [mx, admin], { env: { MAILGATE_WEB_DIR: web.dir } });
  url = `http://127.0.0.1:${admin}`;
  await send(mx, { helo: 'printer.example.com', from: 'printer@example.com', subject: 'Scan from the 3rd floor' });
  await send(mx, { helo: XSS_HELO, from: 'copier@example.com', subject: XSS_SUBJECT });
  await send(mx, { helo: 'scanner.example.com', from: 'scanner@example.com', subject: 'via connector', localAddress: '127.0.0.2' });
  await send(mx, { helo: 'mail.example.org', from: 'news@example.org', subject: 'newsletter' });
  refusedCode = /^(\d{3}) (\d\.\d+\.\d+)/.exec(await relayAttempt(mx))?.slice(1, 3).join(' ') ?? '';
  assert.ok(refusedCode, 'the refusal carries an enhanced status code');
  const file = join(dir, 'console-first-login.token');
  firstToken = readFileSync(file, 'utf8').trim();
  await waitForTotals({ 'direct-send': 2, connector: 1, 'anonymous-external': 1, other: 1 });
});

after(async () => {
  await gw?.stop();
  await sink?.close();
  web?.remove();
  if (dir) removeDir(dir);
});

test('first run: a first-login token in a 0600 file, the log names the console and the file but not the secret', (t) => {
  if (!gw) return t.skip('chromium not installed: browser tests skipped');
  const file = join(dir, 'console-first-login.token');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match(firstToken, /^mgt_/);
  const log = gw.log();
  assert.ok(log.includes(`${url}/`), 'the log names the console address');
  assert.ok(log.includes(file), 'the log names the token file');
  assert.ok(!log.includes(firstToken), 'the secret is not in the log');
});

test('login page and dashboard: the mail just sent, by attribution; new Direct Send sources marked; axe clean; screenshots', async (t) => {
  const b = await openBrowser(t);
  if (!b) return;
  try {
    const page = await b.page();
    await page.goto(url);
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await checkAxe(page, 'the login page');
    await screenshot(page, 'login');
    await loginWithToken(page, url, firstToken);
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    const messages = page.locator('[data-card="messages"] .value');
    await messages.waitFor();
    assert.equal((await messages.textContent())?.trim(), '5');
    const legend = page.locator('.legend-list').first();
    for (const line of ['Direct Send: 2', 'Connector: 1', 'Anonymous external: 1', 'Authenticated: 0', 'Other (relay denied, none): 1']) assert.ok((await legend.textContent())?.includes(line), `legend shows ${line}: ${await legend.textContent()}`);
    assert.equal((await page.locator('[data-card="refused"] .value').textContent())?.trim(), '1');
    assert.equal((await page.locator('.legend-list').nth(1).textContent())?.trim(), `${refusedCode}: 1`, 'refusals by reply code');
    const source = page.getByRole('row').filter({ has: page.getByRole('link', { name: '127.0.0.1', exact: true }) });
    await source.waitFor();
    assert.match((await source.textContent()) ?? '', /copier@example\.com/, "the source's latest sender");
    assert.equal(await source.locator('.badge.new').count(), 1, 'the new Direct Send source is marked');
    assert.equal((await page.locator('[data-card="reject-direct-send"] .value').textContent())?.trim(), 'Off');
    assert.equal((await page.locator('[data-card="audit-rules"] .value').textContent())?.trim(), '1');
    await page.getByRole('link', { name: 'Quarantine Direct Send' }).waitFor();
    await checkAxe(page, 'the dashboard');
    await screenshot(page, 'dashboard');
    await page.getByRole('combobox', { name: 'Window' }).selectOption('7d');
    await page.waitForURL(/window=7d/);
    await page.locator('figcaption', { hasText: 'Messages per 2 h by attribution' }).waitFor();
    assert.equal((await messages.textContent())?.trim(), '5');

    const phone = await b.page({ width: 390, height: 844 });
    await phone.goto(`${url}/#/dashboard`);
    await phone.locator('[data-card="messages"] .value').waitFor();
    await checkAxe(phone, 'the dashboard at phone width');
    const overflow = await phone.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    assert.ok(Number(overflow) <= 1, `no sideways scrolling of the page at phone width (${String(overflow)} px)`);
    await screenshot(phone, 'dashboard-phone');
    assert.deepEqual(b.pageErrors, []);
  } finally {
    await b.close();
  }
});

test('a subject with <script> and a HELO with HTML are shown as text: no dialog, no script ran', async (t) => {
  const b = await openBrowser(t);
  if (!b) return;
  try {
    const page = await b.page();
    await loginWithToken(page, url, firstToken);
    await page.getByRole('cell', { name: XSS_SUBJECT, exact: true }).waitFor();
    await page.getByRole('cell', { name: XSS_HELO, exact: true }).waitFor();
    assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined');
    assert.equal(await page.locator('table img, table script').count(), 0, 'no element was made from the text');
    assert.deepEqual(b.dialogs, []);
    await screenshot(page, 'dashboard-escaped-text');
  } finally {
    await b.close();
  }
});

test('a console user logs in with name and password, sees who they are, and logs out', async (t) => {
  const b = await openBrowser(t);
  if (!b) return;
  try {
    const added = cli(dir, ['console-user', 'add', 'alice', '--scope', 'read'], 'a long console password\n');
    assert.equal(added.code, 0, added.stderr);
    const page = await b.page();
    await page.goto(url);
    await page.getByRole('radio', { name: 'a user name and password' }).check();
    await page.getByLabel('User name', { exact: true }).fill('alice');
    await page.getByLabel('Password', { exact: true }).fill('not her password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong user name or password' }).waitFor();
    await loginWithPassword(page, url, 'alice', 'a long console password');
    await page.getByRole('banner').getByText('alice').waitFor();
    assert.equal((await page.locator('.banner .badge').textContent())?.trim(), 'read');
    const cookies = await b.context.cookies(url);
    const session = cookies.find((c) => c.name === 'mailgate_session');
    assert.ok(session?.httpOnly, 'HttpOnly');
    assert.equal(session?.sameSite, 'Strict');
    assert.equal(await page.evaluate('document.cookie'), '', 'no script can read the session cookie');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    assert.deepEqual(b.pageErrors, []);
  } finally {
    await b.close();
  }
});

test('keyboard: the skip link comes first and lands on the page; nav links open pages and focus moves to them', async (t) => {
  const b = await openBrowser(t);
  if (!b) return;
  try {
    const page = await b.page();
    await loginWithToken(page, url, firstToken);
    await page.locator('[data-card="messages"]').waitFor();
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement.id'), 'main');
    const trace = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trace' });
    await trace.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/trace/);
    // The Trace page has rendered once its title is set (the Dashboard's h1 is there until then).
    const rendered = Date.now() + 10_000;
    while ((await page.title()) !== 'Trace · mailgate' && Date.now() < rendered) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await page.title(), 'Trace · mailgate');
    await page.getByRole('navigation', { name: 'Main' }).locator('a[aria-current="page"]', { hasText: 'Trace' }).waitFor({ timeout: 10_000 });
    assert.equal(await trace.getAttribute('aria-current'), 'page');
    assert.equal(await page.evaluate('document.activeElement.id'), 'main', 'focus moved to the new page');
  } finally {
    await b.close();
  }
});
