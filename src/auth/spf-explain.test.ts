import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainSpf, type Resolve } from './spf-explain.ts';

const zones: Record<string, string[]> = {
  'contoso.example': ['v=spf1 ip4:192.0.2.0/24 include:sendgrid.example mx ~all'],
  'sendgrid.example': ['v=spf1 ip4:198.51.100.0/24 -all'],
  'redirected.example': ['v=spf1 redirect=contoso.example'],
  'nospf.example': ['some other text'],
};
const resolve: Resolve = async (name, type) => {
  if (type === 'TXT' && zones[name]) return zones[name].map((t) => [t]);
  if (type === 'MX' && name === 'contoso.example') return [{ exchange: 'mx.contoso.example', priority: 10 }];
  if (type === 'A' && name === 'mx.contoso.example') return ['203.0.113.25'];
  throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
};

test('names the term that authorised the IP, first match wins', async () => {
  assert.deepEqual(await explainSpf('192.0.2.7', 'contoso.example', resolve), { result: 'pass', mechanism: 'ip4:192.0.2.0/24' });
  assert.deepEqual(await explainSpf('198.51.100.9', 'contoso.example', resolve), { result: 'pass', mechanism: 'include:sendgrid.example' });
  assert.deepEqual(await explainSpf('203.0.113.25', 'contoso.example', resolve), { result: 'pass', mechanism: 'mx' });
  assert.deepEqual(await explainSpf('203.0.113.99', 'contoso.example', resolve), { result: 'softfail' });
});

test('redirect, no record, and a record given offline', async () => {
  assert.deepEqual(await explainSpf('198.51.100.9', 'redirected.example', resolve), { result: 'pass', mechanism: 'redirect=contoso.example' });
  assert.deepEqual(await explainSpf('192.0.2.7', 'nospf.example', resolve), { result: 'none' });
  assert.deepEqual(await explainSpf('10.1.2.3', 'offline.example', resolve, 'v=spf1 ip4:10.0.0.0/8 -all'), { result: 'pass', mechanism: 'ip4:10.0.0.0/8' });
  assert.deepEqual(await explainSpf('11.1.2.3', 'offline.example', resolve, 'v=spf1 ip4:10.0.0.0/8 -all'), { result: 'fail' });
});
