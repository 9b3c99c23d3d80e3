/**
 * End to end: an Exchange Online tenant's configuration (Get-AcceptedDomain, Get-InboundConnector,
 * Get-OrganizationConfig as Windows PowerShell 5.1 writes them with ConvertTo-Json | Out-File)
 * imported with `mailgate audit import-config`, turned into a configuration by `audit mirror`,
 * checked by `config validate` and applied with `config apply` to a running `mailgate serve`;
 * the gateway then answers real SMTP sessions from 127.0.0.x as the reference says Exchange
 * would (§1.1, §3.1): 550 5.7.68 for Direct Send with RejectDirectSend on, 550 5.7.51 for a
 * restricted Partner connector's domain from another IP, 250 from the connector's IP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SmtpTestClient, message, type Reply } from '../helpers/smtp-client.ts';
import { cli, startMxGateway } from '../helpers/gateway.ts';
import * as T from '../audit/tenant-fixtures.ts';

async function attempt(port: number, localAddress: string, from: string, to: string, subject: string): Promise<Reply> {
  const c = await SmtpTestClient.connect({ port, localAddress });
  try {
    assert.equal((await c.cmd('EHLO client.test')).code, 250);
    const r = await c.sendMail(from, [to], message({ from, to, subject }));
    return [r.mail, ...r.rcpts, r.data, r.eod].find((x) => x !== undefined && x.code >= 400) ?? (r.eod as Reply);
  } finally {
    await c.quit();
  }
}

test('audit mirror applied to a running gateway gives Exchange\'s verdicts: 5.7.68, 5.7.51, and 250 from the connector\'s IP', async () => {
  const g = await startMxGateway({});
  try {
    const files = [
      T.writeJson(g.dir, 'domains.json', [T.acceptedDomain('ps51', 'contoso.com', 'Authoritative', { Default: true }), T.acceptedDomain('ps51', 'contoso.onmicrosoft.com', 'Authoritative', { InitialDomain: true })], 'ps51'),
      T.writeJson(g.dir, 'inbound.json', [
        T.inboundConnector('ps51', { name: 'Fabrikam relay', type: 'Partner', ips: ['127.0.0.20'], domains: ['fabrikam.test'], restrictIp: true }),
        T.inboundConnector('ps51', { name: 'Scanners', type: 'Partner', ips: ['127.0.0.10'], domains: ['contoso.com'] }),
      ], 'ps51'),
      T.writeJson(g.dir, 'org.json', [T.organizationConfig('ps51', true)], 'ps51'),
    ];
    const ic = cli(g.dir, ['audit', 'import-config', '--tenant', 'contoso', ...files]);
    assert.equal(ic.code, 0, ic.stderr);
    const out = join(g.dir, 'mirror.yaml');
    const m = cli(g.dir, ['audit', 'mirror', '--tenant', 'contoso', '-o', out]);
    assert.equal(m.code, 0, m.stderr);
    const v = cli(g.dir, ['config', 'validate', '-f', out]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    const a = cli(g.dir, ['config', 'apply', '-f', out]);
    assert.equal(a.code, 0, a.stderr);

    // The running gateway picks the new version up within a second; wait for Direct Send to be refused.
    let ds: Reply | undefined;
    for (const until = Date.now() + 15_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      ds = await attempt(g.port, '127.0.0.2', 'printer@contoso.com', 'user@contoso.com', 'direct send');
      if (ds.code === 550 && / 5\.7\.68 /.test(ds.text)) break; // 5.7.64 until the mirror's accepted domains apply
    }
    assert.match(ds?.text ?? '', /^550 5\.7\.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources/);

    const wrongIp = await attempt(g.port, '127.0.0.21', 'ap@fabrikam.test', 'user@contoso.com', 'wrong ip');
    assert.match(wrongIp.text, /^550 5\.7\.51 TenantInboundAttribution; There is a partner connector configured that matched the message's recipient domain/);

    const partner = await attempt(g.port, '127.0.0.20', 'ap@fabrikam.test', 'user@contoso.com', 'from the partner');
    assert.equal(partner.code, 250, partner.text);
    const scanner = await attempt(g.port, '127.0.0.10', 'scanner@contoso.com', 'user@contoso.com', 'from the scanner');
    assert.equal(scanner.code, 250, scanner.text);

    for (const [subject, name] of [['from the partner', 'Fabrikam relay'], ['from the scanner', 'Scanners']] as const) {
      let raw: string | undefined;
      for (const until = Date.now() + 10_000; !raw && Date.now() < until; await new Promise((r) => setTimeout(r, 50))) raw = g.sink.messages.find((x) => x.raw.includes(`Subject: ${subject}`))?.raw;
      assert.match(raw ?? '', new RegExp(`X-Mailgate-Attribution: connector; name="${name}"; type=Partner; matched-by=ip`));
    }
  } finally {
    await g.stop();
  }
});
