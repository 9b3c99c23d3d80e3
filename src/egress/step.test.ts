/** The egress step of the readiness report and audit plan is safe: no apply command without a relay address. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { egressSchema } from '../config/schema.ts';
import { egressStep, egressStepSummary } from './step.ts';
import { renderEgress } from './index.ts';

test('without a relay address the step says to set it first and gives no render or apply command', () => {
  const s = egressStep(egressSchema.parse({}));
  assert.equal(s.ready, false);
  assert.ok(s.commands.some((c) => c.startsWith('mailgate egress set --relay-address')));
  assert.ok(!s.commands.some((c) => /egress render|nft -f|iptables-restore|egress check/.test(c)), s.commands.join('\n'));
  assert.match(s.notes[0] ?? '', /would also stop mailgate's own outbound mail/);
});

test('with a relay address: render, apply, check, then watch the trace; what it renders exempts the relay', () => {
  const e = egressSchema.parse({ relayAddresses: ['10.0.0.25'], blockedPorts: [587, 25, 465, 2525] });
  const s = egressStep(e, 'mx.example.net');
  assert.equal(s.ready, true);
  const cmds = s.commands.filter((c) => !c.startsWith('#'));
  assert.deepEqual(cmds, [
    'mailgate egress show',
    'mailgate egress render --format nftables -o egress.nft && nft -c -f egress.nft && nft -f egress.nft',
    'mailgate egress check --target mx.example.net --ports 25,465,587,2525',
    'mailgate report egress-gone --block-date <YYYY-MM-DD of step 2> --since 30d',
  ]);
  assert.deepEqual(egressStepSummary(s).slice(1), cmds.map((c) => `  ${c}`));
  const nft = renderEgress('nftables', e, { version: 1, asOf: '2026-12-07' });
  assert.match(nft, /set exempt4 \{[^}]*elements = \{ 10\.0\.0\.25 \}/);
  assert.match(nft, /ip saddr != @exempt4/);
});
