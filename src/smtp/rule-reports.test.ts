import { test } from 'node:test';
import assert from 'node:assert/strict';
import { incidentReport, mayNotify, senderNotice, type ReportFacts } from './rule-reports.ts';
import type { RuleHit } from '../policy/rules/index.ts';

const facts: ReportFacts = {
  queueId: 'Q1',
  hostname: 'mx.test',
  mailFrom: 'app@example.com',
  recipients: ['user@example.com'],
  clientIp: '192.0.2.5',
  attribution: { kind: 'connector', connector: 'OnPrem', connectorType: 'OnPremises', matchedBy: 'ip' },
  subject: 'hello\r\nBcc: evil@x.test',
  messageId: '<m@x>',
  headerBlock: Buffer.from('Subject: hello\r\nX-A: 1\r\n\r\n'),
  now: Date.UTC(2026, 11, 7),
};
const hit: RuleHit = { rule: 'Tip', priority: 0, mode: 'AuditAndNotify', actions: ['prependSubject', 'generateIncidentReport'], applied: ['generateIncidentReport'] };

test('the AuditAndNotify notice goes only to senders inside the organization (no backscatter)', () => {
  assert.equal(mayNotify(facts), true);
  assert.equal(mayNotify({ ...facts, attribution: { kind: 'authenticated', user: 'u' } }), true);
  assert.equal(mayNotify({ ...facts, attribution: { kind: 'direct-send', basis: 'mail-from' } }), false);
  assert.equal(mayNotify({ ...facts, attribution: { kind: 'connector', connector: 'P', connectorType: 'Partner', matchedBy: 'ip' } }), false);
  assert.equal(mayNotify({ ...facts, mailFrom: '' }), false);
  const notice = senderNotice(hit, facts).toString();
  assert.match(notice, /^To: <app@example\.com>\r\n/m);
  assert.match(notice, /Once the rule is enforced, it would: prependSubject\./);
  assert.doesNotMatch(notice, /^Bcc:/m, 'an untrusted subject cannot add a header');
});

test('the incident report names the rule and attaches the header section, never the body', () => {
  const r = incidentReport('soc@example.com', hit, facts).toString();
  assert.match(r, /^Subject: Incident report: rule Tip matched Q1\r\n/m);
  assert.match(r, /^Auto-Submitted: auto-generated\r\n/m);
  assert.match(r, /Detail: rule Tip mode=AuditAndNotify ran=generateIncidentReport would-have-run=prependSubject/);
  assert.match(r, /Content-Type: text\/rfc822-headers\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSubject: hello\r\nX-A: 1\r\n--=_mailgate-rule-/);
  assert.doesNotMatch(r, /^Bcc:/m);
});
