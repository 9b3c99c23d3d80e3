/**
 * @module cli/route.test
 * `route add|set|list|show|remove` and the Exchange Online side printed by `route show --exchange`
 * (certificate connector from the client certificate's CN; IP connector with the SPF change).
 * Touches: temporary data directories; writes a self-signed test certificate (node-forge).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import forge from 'node-forge';
import { registerRoute } from './commands/route.ts';
import { openContext, type CliIo } from './context.ts';
import { UsageError } from './format.ts';
import { OpsError } from '../ops/errors.ts';
import type { Config } from '../config/index.ts';
import { storedConfig } from '../../test/helpers/stored-config.ts';

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-route-'));
  openContext({ data: dir, create: true }).close(); // as \`mailgate init\` does
  return dir;
}

async function run(data: string, args: string[]): Promise<{ out: string }> {
  const res = { out: '' };
  const io: CliIo = { out: { write: (s: string) => (res.out += s) }, err: { write: () => true }, stdin: Readable.from([]) };
  const program = new Command('mailgate').exitOverride().option('--data <dir>', 'data directory', './data');
  program.configureOutput({ writeOut: (s) => (res.out += s), writeErr: () => undefined });
  registerRoute(program, io);
  await program.parseAsync(['--data', data, ...args], { from: 'user' });
  return res;
}

const stored = storedConfig;

function selfSigned(cn: string): { cert: string; key: string } {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const attrs = [{ name: 'commonName', value: cn }, { name: 'organizationName', value: 'Contoso' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

test('route add, set, list, remove', async () => {
  const data = newDataDir();
  await run(data, ['route', 'add', 'mailbox', '--type', 'smtp', '--domain', 'example.com', '--host', 'mbx.example.com', '--port', '2525', '--tls', 'required']);
  let r = stored(data).routes[1];
  assert.deepEqual(r, { name: 'mailbox', domains: ['example.com'], type: 'smtp', host: 'mbx.example.com', port: 2525, tls: 'required', pickupDir: 'pickup' });
  await run(data, ['route', 'set', 'mailbox', '--port', '25', '--domain', 'example.com,example.org']);
  r = stored(data).routes[1];
  assert.equal(r?.port, 25);
  assert.deepEqual(r?.domains, ['example.com', 'example.org']);
  const list = await run(data, ['route', 'list', '--format', 'json']);
  assert.deepEqual((JSON.parse(list.out) as { name: string }[]).map((x) => x.name), ['default', 'mailbox']);
  await assert.rejects(run(data, ['route', 'add', 'x', '--type', 'smtp']), /routes\[2\]\.host: an smtp route needs host/);
  await assert.rejects(run(data, ['route', 'add', 'x', '--type', 'smtp', '--host', 'h', '--port', '99999']), UsageError);
  await assert.rejects(run(data, ['route', 'set', 'mailbox', '--client-cert', 'c.pem']), UsageError);
  await assert.rejects(run(data, ['route', 'show', 'nope']), OpsError);
  await run(data, ['route', 'remove', 'mailbox']);
  assert.equal(stored(data).routes.length, 1);
});

test('route show --exchange with a client certificate prints the certificate connector', async () => {
  const data = newDataDir();
  const { cert, key } = selfSigned('relay.contoso.com');
  writeFileSync(join(data, 'relay.pem'), cert);
  writeFileSync(join(data, 'relay.key'), key);
  await run(data, ['route', 'add', 'exo', '--type', 'smtp', '--domain', 'example.com', '--host', 'contoso-com.mail.protection.outlook.com', '--tls', 'required', '--client-cert', join(data, 'relay.pem'), '--client-key', join(data, 'relay.key')]);
  const r = await run(data, ['route', 'show', 'exo', '--exchange']);
  assert.match(r.out, /^New-InboundConnector -Name "mailgate exo" -ConnectorType Partner -SenderDomains \* -TlsSenderCertificateName relay\.contoso\.com -RequireTls \$true$/m);
  assert.match(r.out, /^Set-InboundConnector -Identity "mailgate exo" -RestrictDomainsToCertificate \$true$/m);
  assert.doesNotMatch(r.out, /OnPremises -SenderDomains/);
  assert.match(r.out, /accepted domain of the tenant/);
  assert.match(r.out, /\*\.contoso\.com/);
});

test('route show --exchange without a certificate prints the IP connector and the SPF change', async () => {
  const data = newDataDir();
  await run(data, ['route', 'add', 'exo', '--type', 'smtp', '--domain', 'example.com', '--host', 'contoso-com.mail.protection.outlook.com', '--tls', 'required']);
  const r = await run(data, ['route', 'show', 'exo', '--exchange']);
  assert.match(r.out, /^New-InboundConnector -Name "mailgate exo" -ConnectorType Partner -SenderDomains \* -SenderIPAddresses <your public IPv4> -RequireTls \$true$/m);
  assert.match(r.out, /^Set-InboundConnector -Identity "mailgate exo" -RestrictDomainsToIPAddresses \$true$/m);
  assert.match(r.out, /example\.com\. +TXT +"v=spf1 ip4:<your public IPv4> include:spf\.protection\.outlook\.com -all"/);
  const show = await run(data, ['route', 'show', 'default']);
  assert.match(show.out, /^type +pickup$/m);
  const pickup = await run(data, ['route', 'show', 'default', '--exchange']);
  assert.match(pickup.out, /Warning: route "default" is of type pickup/);
});
