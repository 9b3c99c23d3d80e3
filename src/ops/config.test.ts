/**
 * @module ops/config.test
 * `config apply` keeps masked secrets from the version in force under the store's write lock: a
 * change saved after the apply first looked at the store (here: a rotated route secret) is not
 * overwritten by the older secret; with a base version, a change saved since refuses the apply.
 * Touches: a temp data directory (SQLite).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openContext } from '../cli/context.ts';
import { configToYaml, maskSecrets, type Config, type ConfigStore } from '../config/index.ts';
import { removeDir, tempDir } from '../../test/helpers/gateway.ts';
import { applyConfig } from './config.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { sqliteTraceStore } from '../stores/sqlite/trace-store.ts';

const exo = (secret: string): Config['routes'][number] => ({
  name: 'exo', domains: ['example.org'], type: 'smtp', host: 'smtp.office365.com', port: 587, tls: 'verify', pickupDir: 'pickup',
  oauth2: { user: 'u@example.com', tenantId: 't', clientId: 'c', clientSecret: secret, scope: 's' },
});
const secretOf = (c: Config | undefined): string | undefined => c?.routes.find((r) => r.name === 'exo')?.oauth2?.clientSecret;

/**
 * The store, where another writer's change (`race`) is saved just after the first read of the
 * version in force or, when nothing reads first, just before the first write.
 */
function racingStore(inner: ConfigStore, race: () => Promise<unknown>): ConfigStore {
  let raced = false;
  const store = Object.create(inner) as ConfigStore;
  const after = async <T>(v: T): Promise<T> => {
    if (!raced) {
      raced = true;
      await race();
    }
    return v;
  };
  store.current = async () => after(await inner.current());
  store.currentVersion = async () => after(await inner.currentVersion());
  // A write comes after the race too (a store read under the write lock cannot be raced).
  store.save = async (...a) => inner.save(...(await after(a)));
  store.update = async (...a) => inner.update(...(await after(a)));
  return store;
}

async function withCtx(fn: (ctx: OpsContext) => Promise<void>): Promise<void> {
  const dir = tempDir('mailgate-config-');
  const c = openContext({ data: dir, create: true });
  try {
    await fn({ db: c.db, store: c.store, dataDir: c.dataDir, actor: 'alice', trace: sqliteTraceStore(c.db) });
  } finally {
    c.close();
    removeDir(dir);
  }
}

test('config apply: a masked secret keeps the secret in force at the write, not one read before a concurrent rotation', async () => {
  await withCtx(async (ctx) => {
    await ctx.store.update('test', 'seed', (d) => void d.routes.push(exo('old-secret')));
    const cur = (await ctx.store.current())!;
    // The exported file (secret masked), with one change of the applier's own.
    const yaml = configToYaml(maskSecrets(cur.config)).replace(/rejectDirectSend: false/, 'rejectDirectSend: true');
    assert.match(yaml, /clientSecret: '\*{8}'/);
    const store = racingStore(ctx.store, () => ctx.store.update('bob', 'rotate the secret', (d) => {
      const r = d.routes.find((x) => x.name === 'exo');
      if (r?.oauth2) r.oauth2.clientSecret = 'new-secret';
    }));
    const r = await applyConfig({ ...ctx, store }, { text: yaml, source: 'edited.yaml', comment: 'turn on RejectDirectSend' });
    const now = (await ctx.store.current())!;
    assert.equal(r.version, now.version);
    assert.equal(now.config.organization.rejectDirectSend, true);
    assert.equal(secretOf(now.config), 'new-secret', 'the rotated secret is not lost');
  });
});

test('config apply with a base version: a change saved since it refuses the apply (conflict); on the base it applies', async () => {
  await withCtx(async (ctx) => {
    await ctx.store.update('test', 'seed', (d) => void d.routes.push(exo('old-secret')));
    const base = (await ctx.store.current())!;
    const yaml = configToYaml(maskSecrets(base.config)).replace(/rejectDirectSend: false/, 'rejectDirectSend: true');
    const store = racingStore(ctx.store, () => ctx.store.update('bob', 'rotate', (d) => {
      const r = d.routes.find((x) => x.name === 'exo');
      if (r?.oauth2) r.oauth2.clientSecret = 'new-secret';
    }));
    await assert.rejects(
      applyConfig({ ...ctx, store }, { text: yaml, source: 'edited.yaml', baseVersion: base.version }),
      (e: unknown) => e instanceof OpsError && e.kind === 'conflict' && /changed since version/.test(e.message),
    );
    const now = (await ctx.store.current())!;
    assert.equal(now.version, base.version + 1, 'only bob\'s change');
    assert.equal(now.config.organization.rejectDirectSend, false);
    const ok = await applyConfig(ctx, { text: yaml, source: 'edited.yaml', baseVersion: now.version });
    assert.equal(ok.version, now.version + 1);
    assert.equal(secretOf((await ctx.store.current())?.config), 'new-secret');
  });
});
