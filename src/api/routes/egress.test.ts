/**
 * @module api/routes/egress.test
 * The egress policy over the API as the token: set (replace and edit lists), exceptions saved and
 * removed by name, show with each exception's state, render naming the config version; bad input
 * refused with the CLI's messages; 401 without a token, 403 without admin.
 * Touches: a temporary data directory (test/helpers/api).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';

test('egress: set, exceptions, show, render; scopes and refusals', async () => {
  const f = await apiFixture();
  try {
    const set = { relayAddresses: ['192.0.2.10', '2001:db8::10'], internalRanges: ['192.0.2.0/24', '2001:db8::/32'], action: 'drop', blockedPorts: [25, 465, 587, 2525] };
    assert.equal((await f.call(undefined, { method: 'GET', url: '/api/v1/egress' })).statusCode, 401);
    assert.equal((await f.call('read', { method: 'PATCH', url: '/api/v1/egress', payload: set })).statusCode, 403);
    assert.equal((await f.call('operate', { method: 'PUT', url: '/api/v1/egress/exceptions/x', payload: { addresses: ['192.0.2.50'] } })).statusCode, 403);
    const r = await f.call('admin', { method: 'PATCH', url: '/api/v1/egress', payload: set });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((await f.ctx.store.current())!.comment, 'egress set internalRanges relayAddresses blockedPorts action');
    assert.equal((await f.ctx.store.current())!.actor, 'admin');
    const edit = await f.call('admin', { method: 'PATCH', url: '/api/v1/egress', payload: { addRelayAddresses: ['192.0.2.11'], removeInternalRanges: ['2001:db8::/32'], comment: 'second relay' } });
    assert.equal(edit.statusCode, 200, edit.body);
    assert.equal((await f.ctx.store.current())!.comment, 'second relay');
    const badIp = await f.call('admin', { method: 'PATCH', url: '/api/v1/egress', payload: { addRelayAddresses: ['192.0.2.300'] } });
    assert.equal(badIp.statusCode, 422);
    assert.equal(badIp.json<{ detail: string }>().detail, 'relayAddresses: "192.0.2.300" is not an IP address or CIDR');
    const absent = await f.call('admin', { method: 'PATCH', url: '/api/v1/egress', payload: { removeRelayAddresses: ['198.51.100.1'] } });
    assert.equal(absent.statusCode, 422);
    assert.equal(absent.json<{ detail: string }>().detail, '198.51.100.1 is not in the list');
    assert.equal((await f.call('admin', { method: 'PATCH', url: '/api/v1/egress', payload: {} })).statusCode, 422);
    assert.equal((await f.call('admin', { method: 'PATCH', url: '/api/v1/egress', payload: { action: 'accept' } })).statusCode, 400);

    const exc = await f.call('admin', { method: 'PUT', url: '/api/v1/egress/exceptions/scanner', payload: { addresses: ['192.0.2.50'], comment: 'vendor "X"', expires: '2099-01-31' } });
    assert.equal(exc.statusCode, 200, exc.body);
    const old = await f.call('admin', { method: 'PUT', url: '/api/v1/egress/exceptions/old', payload: { addresses: ['192.0.2.51'], expires: '2000-01-01' } });
    assert.equal(old.statusCode, 200, old.body);
    const evil = await f.call('admin', { method: 'PUT', url: '/api/v1/egress/exceptions/evil', payload: { addresses: ['192.0.2.52'], comment: 'a\n-A FORWARD -j ACCEPT' } });
    assert.equal(evil.statusCode, 422, 'a comment is one line: it is rendered into firewall files');
    assert.equal((await f.call('admin', { method: 'PUT', url: '/api/v1/egress/exceptions/x', payload: { addresses: ['192.0.2.52'], expires: '2099-02-30' } })).statusCode, 422);

    const shown = await f.call('read', { method: 'GET', url: '/api/v1/egress' });
    assert.equal(shown.statusCode, 200);
    const doc = shown.json<{ version: number; relayAddresses: string[]; internalRanges: string[]; action: string; blockedPorts: number[]; log: boolean; insideInterface: string; exceptions: { name: string; state: string; expires: string; comment: string }[] }>();
    assert.equal(doc.version, (await f.ctx.store.currentVersion()));
    assert.deepEqual(doc.relayAddresses, ['192.0.2.10', '2001:db8::10', '192.0.2.11']);
    assert.deepEqual(doc.internalRanges, ['192.0.2.0/24']);
    assert.equal(doc.action, 'drop');
    assert.deepEqual(doc.blockedPorts, [25, 465, 587, 2525]);
    assert.equal(doc.log, true);
    assert.equal(doc.insideInterface, 'inside');
    assert.deepEqual(doc.exceptions.map((x) => [x.name, x.state, x.expires]), [['scanner', 'active', '2099-01-31'], ['old', 'expired', '2000-01-01']]);
    assert.equal(doc.exceptions[0]?.comment, 'vendor "X"');

    const rendered = await f.call('read', { method: 'GET', url: '/api/v1/egress/render?format=nftables&date=2026-12-07' });
    assert.equal(rendered.statusCode, 200, rendered.body);
    const out = rendered.json<{ format: string; version: number; asOf: string; text: string }>();
    assert.equal(out.version, doc.version);
    assert.equal(out.asOf, '2026-12-07');
    assert.match(out.text, new RegExp(`version ${doc.version}\\b`));
    assert.match(out.text, /192\.0\.2\.50/);
    assert.equal((await f.call('read', { method: 'GET', url: '/api/v1/egress/render?format=cisco' })).statusCode, 400);

    assert.equal((await f.call('admin', { method: 'DELETE', url: '/api/v1/egress/exceptions/scanner' })).statusCode, 200);
    const gone = await f.call('admin', { method: 'DELETE', url: '/api/v1/egress/exceptions/scanner' });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json<{ detail: string }>().detail, 'no egress exception named "scanner"');
  } finally {
    await f.close();
  }
});
