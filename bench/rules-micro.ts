/**
 * @module bench/rules-micro
 * The CPU cost of transport rules alone, per message: the bench's 20 enabled rules (mode `rules` of
 * mailgate-config.ts) evaluated over a bench-like message, header parse included, warm. A ratio
 * input for issue 21's goal (load A with 20 rules within 10 % of none); the end-to-end ratio is
 * `TARGETS="mailgate-full mailgate-rules" npm run bench`.
 * usage: node --import tsx bench/rules-micro.ts
 */
import { compilePolicy, validateConfig } from '../src/config/index.ts';
import { evaluateSnapshotRules } from '../src/policy/rules/index.ts';
import { benchConfig } from './mailgate-config.ts';
import { parseHeaderBlock } from '../src/smtp/rule-scan.ts';
const snap = compilePolicy(validateConfig(benchConfig('rules', 2527, 2600, 'bench.invalid')), 1);
const block = Buffer.from('Received: from x by y\r\nFrom: sender@bench.invalid\r\nTo: user@example.com\r\nSubject: bench\r\nMessage-ID: <a@b>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n\r\n');
const N = 200000;
let hits = 0;
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  const o = evaluateSnapshotRules(snap, { mailFrom: 'sender@bench.invalid', headerFrom: 'sender@bench.invalid', recipients: ['user@example.com'], clientIp: '127.0.0.1', attribution: { kind: 'connector', connector: 'bench-source', connectorType: 'Partner', matchedBy: 'ip' }, headers: parseHeaderBlock(block), subject: 'bench', bodyText: '', attachments: [], size: 2000, auth: { spf: 'pass smtp.mailfrom=bench.invalid', dkim: 'none', dmarc: 'pass p=reject', compauth: 'pass reason=100', spoofSuspect: false }, now: Date.now() });
  hits += o.hits.length;
}
const ns = Number(process.hrtime.bigint() - t0) / N;
console.log(`20 rules (header parse included): ${(ns / 1000).toFixed(2)} µs per message, hits/msg ${hits / N}`);
