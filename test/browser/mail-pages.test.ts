/**
 * The console's Trace, Rules, Quarantine and Alerts pages in Debian's Chromium against a real
 * `mailgate serve` fed real SMTP on loopback (test/helpers/console-gateway.ts), logged in with an
 * admin token: the trace search finds the messages sent and a message's timeline and explanation
 * show; a Direct Send rule in Audit is switched to Enforce on the Rules page (the confirmation
 * shows last week's would-have hits) and the next messages are quarantined; one is deleted and
 * the other released from the Quarantine page, which reaches the loopback sink, its trace showing
 * RELEASE then DELIVER; a recipient's release request (the notification's signed link) is
 * approved there and reaches the sink too; an alert is acknowledged with the token's name. axe (no serious or
 * critical violation) and a screenshot on every page and dialog; untrusted subjects render as
 * text (no script ran); at phone width the page does not scroll sideways (tables scroll inside
 * their own box).
 * Touches: a temp data dir, loopback ports, the gateway and browser processes it starts.
 */
import { test, after, before, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SqliteAlertStore } from '../../src/stores/sqlite/alert-store.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { openContext } from '../../src/cli/context.ts';
import { requestLink } from '../../src/ops/quarantine-requests.ts';
import { startConsoleGateway, type ConsoleGateway } from '../helpers/console-gateway.ts';
import { buildConsole, checkAxe, findChromium, loginWithToken, openBrowser, screenshot, type TestBrowser } from '../helpers/browser.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';

const RULE = 'Hold Direct Send';
const EVIL = 'scan <script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
const WAIT = 60_000; // bounds for a loaded machine, not timings

let g: ConsoleGateway | undefined;
let web: { dir: string; remove(): void } | undefined;
// One browser and page for the file: the tests follow one admin through the pages, in order.
let b: TestBrowser | undefined;
let page: Page;

before(async () => {
  if (!findChromium() && process.env.CI !== 'true') return; // each test skips with the message
  web = buildConsole();
  g = await startConsoleGateway({ transportRules: [{ name: RULE, priority: 0, mode: 'Audit', conditions: { attributionIs: ['direct-send'] }, actions: { quarantine: true } }] }, { webDir: web.dir });
  for (const subject of ['printer scan 1', EVIL]) assert.match(await g.send({ subject }), /^250 /);
});
after(async () => {
  await b?.close();
  await g?.stop();
  web?.remove();
});

/** The shared browser, logged in (opened by the first test that runs); undefined when skipped. */
async function session(t: TestContext): Promise<Page | undefined> {
  if (!b) {
    b = await openBrowser(t);
    if (!b) return undefined;
    page = await b.page();
    await loginWithToken(page, gw().url, gw().token);
  }
  return page;
}

const gw = (): ConsoleGateway => {
  if (!g) throw new Error('no gateway');
  return g;
};
const noScriptRan = async (): Promise<void> => {
  assert.deepEqual(b?.dialogs, []);
  assert.deepEqual(b?.pageErrors, []);
  assert.equal(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss), undefined);
};

test('trace: the search finds the messages sent; a message shows its explanation and timeline; subjects are text', async (t) => {
  if (!(await session(t))) return;
  await page.goto(`${gw().url}#/trace?since=1h&sender=scanner`);
  await page.getByRole('link', { name: 'printer scan 1' }).waitFor({ timeout: WAIT });
  await page.getByRole('link', { name: EVIL }).waitFor();
  await noScriptRan();
  await checkAxe(page, 'trace');
  await screenshot(page, 'trace');
  // The CLI's other filters, through the form: TLS 1.3 finds none of these plaintext sessions.
  await page.getByText('More filters').click();
  await page.getByLabel('TLS', { exact: true }).selectOption('1.3');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No message matches these filters in this window.').waitFor({ timeout: WAIT });
  assert.match(page.url(), /tls=1\.3/);
  await page.getByLabel('TLS', { exact: true }).selectOption('none');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: 'printer scan 1' }).waitFor({ timeout: WAIT });
  await page.getByRole('link', { name: EVIL }).click();
  await page.getByRole('heading', { name: 'Timeline' }).waitFor({ timeout: WAIT });
  const explain = await page.locator('.explain').innerText();
  assert.match(explain, /Direct Send: sent without authentication from 127\.0\.0\.1/);
  assert.match(explain, new RegExp(`Transport rule "${RULE}" matched in Audit mode: ran nothing; would have run quarantine`));
  const timeline = await page.getByRole('table', { name: 'Events, oldest first' }).innerText();
  for (const e of ['RECEIVE', 'RULE', 'DELIVER']) assert.match(timeline, new RegExp(e));
  assert.match(await page.locator('.facts').innerText(), /Subject\s+scan <script>window\.__xss=1<\/script>/);
  await noScriptRan();
  await checkAxe(page, 'trace-message');
  await screenshot(page, 'trace-message');
});

test('rules: Audit → Enforce after a confirmation showing the would-have hits; the next messages are quarantined (filtered by why); disable and enable', async (t) => {
  if (!(await session(t))) return;
  await page.goto(`${gw().url}#/rules`);
  const row = page.getByRole('row').filter({ hasText: RULE });
  await row.getByText('2 would have quarantine').waitFor({ timeout: WAIT });
  await checkAxe(page, 'rules');
  await screenshot(page, 'rules');
  // Keyboard: Enter opens the confirmation with focus on Cancel; Escape closes it, focus returns.
  const enforce = page.getByRole('button', { name: new RegExp(`^Switch to Enforce rule ${RULE}`) });
  await enforce.focus();
  await page.keyboard.press('Enter');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).waitFor();
  assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } | null } }).document.activeElement?.textContent), 'Cancel');
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'hidden' });
  assert.ok(await enforce.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement), 'focus is back on the button');
  await enforce.click();
  const dialog = page.getByRole('dialog', { name: `Switch "${RULE}" to Enforce?` });
  await dialog.getByText(/would have run quarantine on 2 messages/).waitFor({ timeout: WAIT });
  await dialog.getByRole('link', { name: 'printer scan 1' }).waitFor();
  await checkAxe(page, 'rules-confirm');
  await screenshot(page, 'rules-confirm');
  await dialog.getByRole('button', { name: 'Switch to Enforce', exact: true }).click();
  const done = page.getByText(/is in Enforce from configuration version \d+/);
  await done.waitFor({ timeout: WAIT });
  const version = Number(/version (\d+)/.exec((await done.textContent()) ?? '')?.[1]);
  await row.getByText('Enforce', { exact: true }).waitFor();
  await gw().waitConfig(version);
  for (const subject of ['held for review', 'spam to delete', 'requested by alice']) assert.match(await gw().send({ subject }), /^250 /);
  await page.goto(`${gw().url}#/quarantine`);
  await page.getByRole('link', { name: 'held for review' }).waitFor({ timeout: WAIT });
  await page.getByRole('link', { name: 'spam to delete' }).waitFor();
  // Filtered by why held: a DMARC filter shows none of them.
  await page.getByLabel('Why held').selectOption('dmarc');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByText('The quarantine is empty.').waitFor({ timeout: WAIT });
  await page.getByLabel('Why held').selectOption('rule');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('link', { name: 'held for review' }).waitFor({ timeout: WAIT });
  // Disable and enable again on the Rules page (the held mail above was quarantined before this).
  await page.goto(`${gw().url}#/rules`);
  await page.getByRole('button', { name: new RegExp(`^Disable rule ${RULE}`) }).click();
  await row.getByText('Disabled', { exact: true }).waitFor({ timeout: WAIT });
  await page.getByRole('button', { name: new RegExp(`^Enable rule ${RULE}`) }).click();
  await row.getByText('Enabled', { exact: true }).waitFor({ timeout: WAIT });
  await page.getByText(new RegExp(`"${RULE}" enabled \\(configuration version \\d+\\)`)).waitFor();
});

test('quarantine: the preview is text; delete and release behind confirmations; the message reaches the sink and its trace shows RELEASE and DELIVER', async (t) => {
  if (!(await session(t))) return;
  await page.goto(`${gw().url}#/quarantine`);
  await page.getByRole('link', { name: 'held for review' }).waitFor({ timeout: WAIT });
  await checkAxe(page, 'quarantine');
  await screenshot(page, 'quarantine');
  // Delete one, behind its confirmation; it leaves the list for good.
  await page.getByRole('link', { name: 'spam to delete' }).click();
  await page.getByRole('button', { name: 'Delete…' }).click();
  const del = page.getByRole('dialog', { name: 'Delete this message?' });
  await checkAxe(page, 'quarantine-delete');
  await screenshot(page, 'quarantine-delete');
  await del.getByRole('button', { name: 'Delete for good' }).click();
  await page.getByText('Deleted for good.').waitFor({ timeout: WAIT });
  await page.getByRole('link', { name: '← Quarantine' }).click();
  await page.getByRole('link', { name: 'held for review' }).waitFor({ timeout: WAIT });
  assert.equal(await page.getByRole('link', { name: 'spam to delete' }).count(), 0);
  await page.getByRole('link', { name: 'held for review' }).click();
  await page.getByRole('heading', { name: 'Attachments' }).waitFor({ timeout: WAIT });
  assert.match(await page.locator('.facts').innerText(), new RegExp(`Why held\\s+rule ${RULE}`));
  await checkAxe(page, 'quarantine-message');
  await screenshot(page, 'quarantine-message');
  const before = gw().sink.messages.length;
  await page.getByRole('button', { name: 'Release…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Release this message?' });
  await dialog.getByLabel('Why (recorded with your name)').fill('checked with the sender');
  await checkAxe(page, 'quarantine-release');
  await screenshot(page, 'quarantine-release');
  await dialog.getByRole('button', { name: 'Release to 1 recipient' }).click();
  await page.getByText('Released to alice@example.com: it is queued for delivery.').waitFor({ timeout: WAIT });
  const until = Date.now() + WAIT;
  while (!gw().sink.messages.slice(before).some((m) => /Subject: held for review/.test(m.raw)) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  assert.ok(gw().sink.messages.slice(before).some((m) => /Subject: held for review/.test(m.raw)), 'the released message reached the sink');
  await page.getByRole('link', { name: 'Follow it in the message trace' }).click();
  const timeline = page.getByRole('table', { name: 'Events, oldest first' });
  await timeline.waitFor({ timeout: WAIT });
  // The delivery's trace event is written by the gateway's buffered writer: refresh until it shows.
  while (!/DELIVER/.test(await timeline.innerText()) && Date.now() < until) {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('button', { name: 'Refresh' }).waitFor();
    await new Promise((r) => setTimeout(r, 250));
  }
  const events = await timeline.innerText();
  assert.match(events, /QUARANTINE[\s\S]*RELEASE[\s\S]*released by browser: checked with the sender[\s\S]*DELIVER/);
  await page.goto(`${gw().url}#/quarantine`);
  await page.getByRole('link', { name: 'requested by alice' }).waitFor({ timeout: WAIT });
  assert.equal(await page.getByRole('link', { name: 'held for review' }).count(), 0);
  await noScriptRan();
});

test("release requests: a recipient's request (from the notification's link) approved on the Quarantine page reaches the sink", async (t) => {
  if (!(await session(t))) return;
  const held = (await (await fetch(`${gw().url}api/v1/quarantine`, { headers: { authorization: `Bearer ${gw().token}` } })).json()) as Array<{ id: string; subject: string }>;
  const id = held.find((m) => m.subject === 'requested by alice')?.id;
  assert.ok(id, JSON.stringify(held));
  // The link a notification carries, followed and confirmed as the recipient would (public route).
  const ctx = openContext({ data: gw().dir });
  let link: string;
  try {
    link = requestLink({ db: ctx.db, store: ctx.store, dataDir: ctx.dataDir, actor: 'test', trace: sqliteTraceStore(ctx.db) }, gw().url.replace(/\/$/, ''), id, 'alice@example.com', Date.now());
  } finally {
    ctx.close();
  }
  const confirm = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  assert.equal(confirm.status, 200, await confirm.text());
  await page.reload(); // the page is open on #/quarantine already: load its lists again
  const approve = page.getByRole('button', { name: 'Approve release to alice@example.com' });
  await approve.waitFor({ timeout: WAIT });
  await checkAxe(page, 'quarantine-requests');
  await screenshot(page, 'quarantine-requests');
  const before = gw().sink.messages.length;
  await approve.click();
  await page.getByText('Approved: released to alice@example.com.').waitFor({ timeout: WAIT });
  const until = Date.now() + WAIT;
  const arrived = (): boolean => gw().sink.messages.slice(before).some((m) => /Subject: requested by alice/.test(m.raw));
  while (!arrived() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  assert.ok(arrived(), 'the approved message reached the sink');
  await page.getByText('The quarantine is empty.').waitFor({ timeout: WAIT });
  await page.getByLabel('Show').selectOption('approved');
  await page.getByRole('cell', { name: 'approved by browser' }).waitFor({ timeout: WAIT });
});

test('alerts: listed as text and acknowledged with the logged-in name', async (t) => {
  if (!(await session(t))) return;
  const db = openDatabase(join(gw().dir, 'mailgate.db'));
  try {
    await new SqliteAlertStore(db).raise({ kind: 'new-source', key: 'ip:198.51.100.7', summary: 'new Direct Send source <img src=x onerror="window.__xss=3">', detail: {} }, Date.now());
  } finally {
    db.close();
  }
  await page.goto(`${gw().url}#/alerts`);
  const summary = 'new Direct Send source <img src=x onerror="window.__xss=3">';
  await page.getByRole('cell', { name: summary, exact: true }).waitFor({ timeout: WAIT });
  await checkAxe(page, 'alerts');
  await screenshot(page, 'alerts');
  await page.getByRole('button', { name: `Acknowledge: ${summary}` }).click();
  await page.getByText(`Acknowledged by browser: ${summary}`).waitFor({ timeout: WAIT });
  await page.getByText('No open alerts.').waitFor();
  await page.getByLabel('Show').selectOption('acked');
  await page.getByText(/acknowledged by browser/).waitFor({ timeout: WAIT });
  await noScriptRan();
});

test('phone width: the pages do not scroll sideways; tables scroll in their own box', async (t) => {
  if (!(await session(t))) return;
  const phone = await (b as TestBrowser).page({ width: 390, height: 844 });
  try {
    // Same browser context: the session cookie is shared.
    for (const p of ['trace', 'quarantine', 'rules', 'alerts']) {
      await phone.goto(`${gw().url}#/${p}`);
      await phone.locator('main h1').waitFor({ timeout: WAIT });
      await phone.locator('main table').first().waitFor({ timeout: WAIT });
      // The test's tsconfig has no DOM lib: the page's document typed loosely.
      const overflow = await phone.evaluate(() => {
        const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      assert.ok(overflow <= 0, `#/${p} scrolls sideways by ${overflow}px at 390px`);
      await checkAxe(phone, `${p} at phone width`);
      await screenshot(phone, `${p}-phone`);
    }
    await phone.goto(`${gw().url}#/trace?since=1h`);
    await phone.getByRole('link', { name: EVIL }).click();
    await phone.getByRole('heading', { name: 'Timeline' }).waitFor({ timeout: WAIT });
    const overflow = await phone.evaluate(() => {
      const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    assert.ok(overflow <= 0, `a trace message scrolls sideways by ${overflow}px at 390px`);
    await checkAxe(phone, 'a trace message at phone width');
    await screenshot(phone, 'trace-message-phone');
  } finally {
    await phone.close();
  }
});
