/**
 * @module cli/readme-exchange.test
 * The README's "In front of Exchange Online" connector path, followed literally: its `mailgate`
 * commands run against a fresh data dir whose accepted domain is contoso.com (with certificates
 * named as in the README), and `route show exo --exchange` prints what the README shows.
 * Touches: temporary data directories; writes self-signed test certificates (node-forge).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import forge from 'node-forge';
import { registerDomain } from './commands/domain.ts';
import { registerRoute } from './commands/route.ts';
import type { CliIo } from './context.ts';

async function run(data: string, args: string[]): Promise<string> {
  let out = '';
  const io: CliIo = { out: { write: (s: string) => (out += s) }, err: { write: () => true }, stdin: Readable.from([]) };
  const program = new Command('mailgate').exitOverride().option('--data <dir>', 'data directory', './data');
  program.configureOutput({ writeOut: (s) => (out += s), writeErr: () => undefined });
  registerRoute(program, io);
  registerDomain(program, io);
  await program.parseAsync(['--data', data, ...args], { from: 'user' });
  return out;
}

function selfSigned(cn: string): { cert: string; key: string } {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: cn }]);
  cert.setIssuer([{ name: 'commonName', value: cn }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

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
  for (const cn of ['mx', 'devices']) {
    const { cert, key } = selfSigned(`${cn}.contoso.com`);
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
