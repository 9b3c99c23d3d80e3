/**
 * explainTrace over trace rows as the gateway writes them (the auth columns in smtp/auth-run's
 * spelling, RULE details in smtp/rules-run's): each attribution in Exchange's words, the connector
 * and how it matched, SPF/DKIM/DMARC/compauth meanings, Audit hits as "would have", the outcome.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TraceEvent, TraceMessage } from '../trace/index.ts';
import { parseRuleDetail } from '../trace/reports/index.ts';
import { explainTrace } from './trace-explain.ts';

const base: TraceMessage = { id: 'Q1', connectionId: 'C1', receivedAt: 0, clientIp: '192.0.2.10', listener: 'mx', recipients: ['a@contoso.com'], status: 'Delivered' };
const texts = (m: Partial<TraceMessage>, events: TraceEvent[] = []): Record<string, string> => {
  const e = explainTrace({ ...base, ...m }, events);
  return Object.fromEntries(e.lines.map((l) => [l.topic, `${l.tone}: ${l.text}`]));
};

test('Direct Send is named as Exchange names it, with the way out (connector or SMTP AUTH, then RejectDirectSend 5.7.68)', () => {
  const e = explainTrace({ ...base, attribution: 'direct-send', mailFrom: 'printer@contoso.com' }, []);
  assert.equal(e.summary, 'From 192.0.2.10 by Direct Send (anonymous, with your own domain as sender); Delivered.');
  const a = e.lines.find((l) => l.topic === 'attribution');
  assert.equal(a?.tone, 'warn');
  assert.match(a?.text ?? '', /TenantInboundAttribution/);
  assert.match(a?.text ?? '', /RejectDirectSend \(5\.7\.68\)/);
  assert.equal(e.lines.find((l) => l.topic === 'connector'), undefined);
  // Already refused by RejectDirectSend: the advice is for a legitimate source, not "turn it on".
  const refused = explainTrace({ ...base, attribution: 'direct-send', status: 'Rejected', reply: '550 5.7.68 TenantInboundAttribution; Direct Send not allowed [Q1@gw]' }, []);
  const r = refused.lines.find((l) => l.topic === 'attribution');
  assert.equal(r?.tone, 'bad');
  assert.match(r?.text ?? '', /^Direct Send refused: .*RejectDirectSend is on \(5\.7\.68/);
  assert.doesNotMatch(r?.text ?? '', /then turn on RejectDirectSend/);
});

test('a connector: its name, type and what it matched (IP, or certificate with an unverified chain flagged)', () => {
  const ip = texts({ attribution: 'connector', connector: 'Printers', connectorType: 'OnPremises', connectorMatchedBy: 'ip' });
  assert.match(ip.attribution ?? '', /^ok: Attributed to inbound connector "Printers"/);
  assert.equal(ip.connector, 'ok: Connector type OnPremises (your own mail servers), matched by the sending IP address 192.0.2.10 (SenderIPAddresses).');
  const cert = texts({ attribution: 'connector', connector: 'SaaS', connectorType: 'Partner', connectorMatchedBy: 'certificate', certCn: 'mail.saas.example', certVerified: false });
  assert.match(cert.connector ?? '', /^warn: .*TlsSenderCertificateName, certificate CN "mail\.saas\.example", chain NOT verified/);
});

test('authenticated, anonymous-external, relay-denied and a refused connection', () => {
  assert.match(texts({ attribution: 'authenticated', authUser: 'app@contoso.com' }).attribution ?? '', /^ok: Authenticated with SMTP AUTH as "app@contoso.com"/);
  assert.match(texts({ attribution: 'anonymous-external' }).attribution ?? '', /composite authentication/);
  assert.match(texts({ attribution: 'relay-denied', status: 'Rejected' }).attribution ?? '', /^bad: Relay denied.*5\.7\.64/);
  const refused = explainTrace({ ...base, status: 'Rejected', reply: '554 5.7.1 Access denied [Q1@gw]' }, []);
  assert.equal(refused.summary, 'From 192.0.2.10 by a refused connection; Rejected.');
  assert.match(refused.lines.find((l) => l.topic === 'outcome')?.text ?? '', /"554 5\.7\.1 Access denied \[Q1@gw\]"/);
});

test('SPF, DKIM, DMARC and compauth columns as the gateway writes them, in words', () => {
  const t = texts({
    attribution: 'anonymous-external',
    spf: 'fail smtp.mailfrom=fabrikam.example',
    dkim: JSON.stringify([{ d: 'fabrikam.example', s: 's1', result: 'fail' }]),
    dmarc: 'fail p=reject spf=0 dkim=0 header.from=fabrikam.example',
    compauth: 'fail reason=000',
    spoofSuspect: true,
  });
  assert.equal(t.spf, 'bad: SPF fail for fabrikam.example (MAIL FROM): the SPF record says this IP may NOT send for the domain (hard fail, -all).');
  assert.equal(t.dkim, 'bad: DKIM: fail (d=fabrikam.example, selector s1): no signature verified.');
  assert.match(t.dmarc ?? '', /^bad: DMARC fail for the From domain fabrikam\.example \(published policy p=reject\)/);
  assert.match(t.compauth ?? '', /^bad: Composite authentication \(compauth\) fail reason 000: explicit DMARC failure.*treat the sender as spoofed\.$/);
  const ok = texts({ spf: 'pass smtp.mailfrom=contoso.com', dkim: 'none', dmarc: 'pass spf=1 dkim=0 header.from=contoso.com', compauth: 'pass reason=102', tlsVersion: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384' });
  assert.match(ok.spf ?? '', /^ok: SPF pass/);
  assert.equal(ok.dkim, 'warn: DKIM none: the message was not signed.');
  assert.equal(ok.dmarc, 'ok: DMARC pass for the From domain contoso.com: SPF passed aligned with the From domain.');
  assert.equal(ok.compauth, 'ok: Composite authentication (compauth) pass reason 102: SPF aligned.');
  assert.equal(ok.tls, 'ok: Received over TLSv1.3 (TLS_AES_256_GCM_SHA384) on listener "mx".');
  assert.equal(texts({}).tls, 'warn: Received without TLS on listener "mx".');
  assert.equal(texts({}).spf, undefined, 'no column, no line');
});

test('RULE events: Audit hits say what would have run; the quarantine outcome names the rule', () => {
  const events: TraceEvent[] = [
    { messageId: 'Q1', at: 1, event: 'RECEIVE' },
    { messageId: 'Q1', at: 1, event: 'RULE', detail: 'rule Direct Send quarantine mode=Audit ran=none would-have-run=quarantine' },
    { messageId: 'Q1', at: 1, event: 'RULE', detail: 'rule Tag mode=Enforce ran=prependSubject+setHeader' },
    { messageId: 'Q1', at: 2, event: 'QUARANTINE', detail: 'rule Hold' },
  ];
  const e = explainTrace({ ...base, status: 'Quarantined' }, events);
  const rules = e.lines.filter((l) => l.topic === 'rules').map((l) => l.text);
  assert.deepEqual(rules, [
    'Transport rule "Direct Send quarantine" matched in Audit mode: ran nothing; would have run quarantine if it were in Enforce mode.',
    'Transport rule "Tag" matched in Enforce mode: ran prependSubject, setHeader.',
  ]);
  assert.equal(e.lines.at(-1)?.text, 'Held in quarantine (rule Hold): an admin can release or delete it.');
  const released = explainTrace({ ...base, status: 'Pending' }, [...events, { messageId: 'Q1', at: 3, event: 'RELEASE', recipient: 'a@contoso.com', detail: 'released by console:alice: checked' }]);
  assert.equal(released.lines.at(-1)?.text, 'Released from quarantine (released by console:alice: checked) and queued for delivery.');
});

test('parseRuleDetail: rule names with spaces; anything else is not a hit', () => {
  assert.deepEqual(parseRuleDetail('rule A b mode=Audit ran=none would-have-run=quarantine+rejectMessage'), { rule: 'A b', mode: 'Audit', ran: [], wouldHave: ['quarantine', 'rejectMessage'] });
  assert.equal(parseRuleDetail('redirected from a to b'), undefined);
  assert.equal(parseRuleDetail(undefined), undefined);
});
