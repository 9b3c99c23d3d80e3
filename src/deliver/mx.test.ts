/**
 * @module deliver/mx.test
 * MX planning with an injected resolver: order, implicit MX, null MX, NXDOMAIN, SERVFAIL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planMx, type MxResolver } from './mx.ts';

const fail = (code: string): MxResolver => async () => { throw Object.assign(new Error(`query failed ${code}`), { code }); };

test('hosts in preference order, trailing dots removed', async () => {
  const plan = await planMx('d.test', async () => [{ exchange: 'b.d.test.', priority: 20 }, { exchange: 'a.d.test', priority: 10 }]);
  assert.deepEqual(plan, { kind: 'hosts', hosts: ['a.d.test', 'b.d.test'] });
});

test('no MX records (ENODATA or empty) → the domain itself (RFC 5321 §5.1)', async () => {
  assert.deepEqual(await planMx('d.test', fail('ENODATA')), { kind: 'hosts', hosts: ['d.test'] });
  assert.deepEqual(await planMx('d.test', async () => []), { kind: 'hosts', hosts: ['d.test'] });
});

test('null MX → failed 5.1.10 (RFC 7505)', async () => {
  const plan = await planMx('d.test', async () => [{ exchange: '.', priority: 0 }]);
  assert.equal(plan.kind, 'failed');
  assert.equal(plan.kind === 'failed' ? plan.enhanced : '', '5.1.10');
});

test('NXDOMAIN → failed 5.4.4; SERVFAIL → deferred 4.4.3', async () => {
  const nx = await planMx('d.test', fail('ENOTFOUND'));
  assert.equal(nx.kind, 'failed');
  const sf = await planMx('d.test', fail('ESERVFAIL'));
  assert.equal(sf.kind, 'deferred');
  assert.equal(sf.kind === 'deferred' ? sf.enhanced : '', '4.4.3');
});
