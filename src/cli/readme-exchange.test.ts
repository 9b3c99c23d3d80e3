/**
 * @module cli/readme-exchange.test
 * The README's "In front of Exchange Online" connector path, followed literally: its `mailgate`
 * commands run against a fresh data dir whose accepted domain is contoso.com (with certificates
 * named as in the README), and `route show exo --exchange` prints what the README shows.
 * Touches: temporary data directories; writes test certificates (test/helpers/pki).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openContext } from './context.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerDomain } from './commands/domain.ts';
import { registerRoute } from './commands/route.ts';
import { runCli } from '../../test/helpers/cli-run.ts';
import { createTestCa, issueCert } from '../../test/helpers/pki.ts';

const run = (data: string, args: string[]): Promise<string> => runCli(data, args, [registerRoute, registerDomain]);

/** Split a shell line into words ('…' quoting only, which is all the README uses). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

test('README "In front of Exchange Online": the commands run as written and print the shown connectors', async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## In front of Exchange Online');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
  const blocks = [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] ?? '' }));
  const sh = blocks.find((b) => b.lang === 'sh')?.body ?? '';
  const shown = blocks.find((b) => b.lang === '')?.body ?? '';
  assert.ok(sh && shown, 'the section has the sh block and its output');

  const data = mkdtempSync(join(tmpdir(), 'mailgate-readme-exo-'));
  openContext({ data, create: true }).close(); // as `mailgate init` does
  const ca = createTestCa();
  for (const cn of ['mx', 'devices']) {
    const { cert, key } = issueCert(ca, { cn: `${cn}.contoso.com`, client: true });
    writeFileSync(join(data, `${cn}.pem`), cert);
    writeFileSync(join(data, `${cn}.key`), key);
  }
  await run(data, ['domain', 'add', 'contoso.com']);
  await run(data, ['domain', 'remove', 'example.com']); // the seeded example domain
  let out = '';
  const lines = sh.replace(/\\\n\s*/g, '').split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
  for (const line of lines) {
    const [cmd, ...args] = words(line.replaceAll('/etc/mailgate/', `${data}/`));
    assert.equal(cmd, 'mailgate');
    out = await run(data, args);
  }
  const expected = shown.split('\n').filter((l) => l && l !== '...');
  const got = out.split('\n');
  let at = 0;
  for (const l of expected) {
    const i = got.indexOf(l, at);
    assert.ok(i >= 0, `README line not printed (in order): ${l}\n--- printed:\n${out}`);
    at = i + 1;
  }
  const relay = await run(data, ['route', 'show', 'out', '--exchange']);
  const inline = /`(New-InboundConnector -Name "mailgate out relay"[^`]*)`/.exec(section)?.[1];
  assert.ok(inline && relay.split('\n').includes(inline), `README's relay connector not printed:\n${relay}`);
});
