/**
 * @module cli/route-oauth2.test
 * `route add|set --oauth2-*` stores a route's OAuth 2.0 client settings; its client secret never
 * appears in `config show`, `config export` or `route show` (masked), and an exported file applies
 * back with the stored secret kept.
 * Touches: temporary data directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openContext } from './context.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerConfig } from './commands/config.ts';
import { registerRoute } from './commands/route.ts';
import { UsageError } from './format.ts';
import { configToYaml } from '../config/index.ts';
import { runCli } from '../../test/helpers/cli-run.ts';
import { storedConfig } from '../../test/helpers/stored-config.ts';

const run = (data: string, args: string[]): Promise<string> => runCli(data, args, [registerRoute, registerConfig]);

const SECRET = 'Zx9~s3cr3t.value';

test('route add --oauth2-* stores the client; --oauth2-user "" removes it; an incomplete set is a usage error', async () => {
  const data = mkdtempSync(join(tmpdir(), 'mailgate-route-oauth-'));
  openContext({ data, create: true }).close(); // as `mailgate init` does
  await run(data, ['route', 'add', 'submit', '--type', 'smtp', '--domain', 'example.org', '--host', 'smtp.office365.com', '--port', '587', '--tls', 'required',
    '--oauth2-user', 'scanner@contoso.com', '--oauth2-tenant', 'contoso.onmicrosoft.com', '--oauth2-client-id', 'app-1', '--oauth2-secret-file', '/etc/mailgate/exo.secret']);
  assert.deepEqual(storedConfig(data).routes[1]?.oauth2, {
    user: 'scanner@contoso.com', tenantId: 'contoso.onmicrosoft.com', clientId: 'app-1', clientSecretFile: '/etc/mailgate/exo.secret', scope: 'https://outlook.office365.com/.default',
  });
  await assert.rejects(run(data, ['route', 'add', 'x', '--type', 'smtp', '--host', 'h', '--oauth2-user', 'a@b.c']), UsageError);
  const oauth = ['--oauth2-user', 'a@b.c', '--oauth2-tenant', 't', '--oauth2-client-id', 'c', '--oauth2-secret-file', 's'];
  await assert.rejects(run(data, ['route', 'add', 'y', '--type', 'smtp', '--host', 'smtp.office365.com', '--tls', 'none', ...oauth]), /routes\[2\]\.tls: oauth2 needs tls/);
  await assert.rejects(run(data, ['route', 'add', 'z', '--type', 'mx', ...oauth]), /routes\[2\]\.oauth2: oauth2 needs an smtp route/);
  await assert.rejects(run(data, ['route', 'set', 'submit', '--oauth2-user', '']).then(() => run(data, ['route', 'set', 'submit', '--oauth2-tenant', 't'])), UsageError);
  assert.equal(storedConfig(data).routes[1]?.oauth2, undefined);
});

test('the client secret is masked by config show/export and route show, and survives an export → apply round trip', async () => {
  const data = mkdtempSync(join(tmpdir(), 'mailgate-route-oauth-'));
  openContext({ data, create: true }).close(); // as `mailgate init` does
  await run(data, ['route', 'add', 'submit', '--type', 'smtp', '--domain', 'example.org', '--host', 'smtp.office365.com']);
  const cfg = storedConfig(data);
  const route = cfg.routes[1]!;
  route.oauth2 = { user: 'scanner@contoso.com', tenantId: 't', clientId: 'c', clientSecret: SECRET, scope: 'https://outlook.office365.com/.default' };
  const file = join(data, 'in.yaml');
  writeFileSync(file, configToYaml(cfg));
  await run(data, ['config', 'apply', '-f', file]);
  assert.equal(storedConfig(data).routes[1]?.oauth2?.clientSecret, SECRET);
  const outputs = [
    await run(data, ['config', 'show']),
    await run(data, ['config', 'show', '--format', 'json']),
    await run(data, ['config', 'show', '--changed']),
    await run(data, ['config', 'export']),
    await run(data, ['route', 'show', 'submit', '--format', 'json']),
  ];
  for (const o of outputs) {
    assert.ok(!o.includes(SECRET), `secret printed in:\n${o}`);
    assert.match(o, /\*{8}/);
  }
  const exported = join(data, 'out.yaml');
  await run(data, ['config', 'export', '-o', exported]);
  assert.ok(!readFileSync(exported, 'utf8').includes(SECRET));
  await run(data, ['route', 'set', 'submit', '--port', '587']); // a change, so the apply below makes a version
  await run(data, ['config', 'apply', '-f', exported]);
  assert.equal(storedConfig(data).routes[1]?.oauth2?.clientSecret, SECRET);
  assert.equal(storedConfig(data).routes[1]?.port, 25);
});
