/** policy replay: --set parsing and validation, and replaying trace rows under two configurations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy, validateConfig, type Config } from '../config/index.ts';
import { reportWindow } from '../trace/reports/index.ts';
import { addRow, tempTrace } from '../trace/reports/test-rows.ts';
import { UsageError } from './format.ts';
import { formatReply } from '../smtp/replies.ts';
import { replayTrace as replayWith } from '../../test/helpers/replay.ts';
import { applySet, applySets, parseSetPath } from './replay-set.ts';

function config(over: Record<string, unknown> = {}): Config {
  return validateConfig({
    acceptedDomains: [{ domainName: 'example.com' }],
    receiveConnectors: [{ name: 'mx', port: 2525, role: 'mx' }],
    lists: { allow: { ips: [], senderDomains: [] }, block: { ips: ['127.0.0.66/32'], senderDomains: [] } },
    ...over,
  });
}

test('--set: paths, org shorthand, typed values, JSON arrays; bad paths and values are usage errors naming them', () => {
  assert.deepEqual(parseSetPath('org.rejectDirectSend'), ['organization', 'rejectDirectSend']);
  assert.deepEqual(parseSetPath('inboundConnectors[0].senderIPAddresses.1'), ['inboundConnectors', 0, 'senderIPAddresses', 1]);
  const c = config({ inboundConnectors: [{ name: 'A', senderIPAddresses: ['192.0.2.1'] }] });
  assert.equal(applySet(c, 'org.rejectDirectSend=true').organization.rejectDirectSend, true);
  assert.equal(applySet(c, 'organization.name=12345').organization.name, '12345');
  assert.equal(applySet(c, 'trace.retentionDays=30').trace.retentionDays, 30);
  assert.deepEqual(applySet(c, 'inboundConnectors[0].senderIPAddresses=["192.0.2.0/24","198.51.100.1"]').inboundConnectors[0]?.senderIPAddresses, ['192.0.2.0/24', '198.51.100.1']);
  assert.equal(applySet(c, 'inboundConnectors.0.enabled=false').inboundConnectors[0]?.enabled, false);
  const two = applySets(c, ['org.rejectDirectSend=true', 'lists.block.ips=[]']);
  assert.deepEqual([two.organization.rejectDirectSend, two.lists.block.ips], [true, []]);
  assert.throws(() => applySet(c, 'org.rejectDirectSnd=true'), (e: unknown) => e instanceof UsageError && /org\.rejectDirectSnd=true: organization\.rejectDirectSnd: unknown setting/.test(e.message));
  assert.throws(() => applySet(c, 'nothing.here=1'), (e: unknown) => e instanceof UsageError && /--set nothing\.here: no setting "nothing"/.test(e.message));
  assert.throws(() => applySet(c, 'inboundConnectors[5].enabled=true'), (e: unknown) => e instanceof UsageError && /no setting "inboundConnectors\.5"/.test(e.message));
  assert.throws(() => applySet(c, 'org.rejectDirectSend=maybe'), (e: unknown) => e instanceof UsageError && /org\.rejectDirectSend/.test(e.message));
  assert.throws(() => applySet(c, 'lists.block.ips=["300.1.1.1"]'), (e: unknown) => e instanceof UsageError && /lists\.block\.ips\[0\]/.test(e.message));
  assert.throws(() => applySet(c, 'org.rejectDirectSend'), (e: unknown) => e instanceof UsageError && /expected path=value/.test(e.message));
  assert.throws(() => applySet(c, 'inboundConnectors=[oops'), (e: unknown) => e instanceof UsageError && /invalid JSON/.test(e.message));
});

test('replay: RejectDirectSend on plus a connector for one source newly rejects exactly the other source', () => {
  const t = tempTrace();
  try {
    const db = t.db;
    const a1 = addRow(db, { clientIp: '127.0.0.2', mailFrom: 'printer@example.com', subject: 'scan a' });
    addRow(db, { clientIp: '127.0.0.2', mailFrom: 'printer@example.com', subject: 'scan b' });
    const b1 = addRow(db, { clientIp: '127.0.0.3', mailFrom: 'app@example.com', subject: 'report', recipients: ['x@example.com', 'y@example.com'] });
    addRow(db, { clientIp: '127.0.0.4', mailFrom: 'bob@contoso.test', attribution: 'anonymous-external' });
    addRow(db, { clientIp: '127.0.0.66', mailFrom: undefined, recipients: [], attribution: undefined, status: 'Rejected', reply: '554 5.7.1 blocked' });
    addRow(db, { clientIp: '127.0.0.3', mailFrom: 'app@example.com', source: 'import:exo' }); // imported rows are not replayed
    const cur = config();
    const cand = applySets(cur, [
      'org.rejectDirectSend=true',
      'inboundConnectors=[{"name":"Printer","senderIPAddresses":["127.0.0.2/32"],"senderDomains":["example.com"]}]',
      'lists.block.ips=[]',
    ]);
    const r = replayWith(db, reportWindow('1d', Date.now(), 90), compilePolicy(cur, 1), compilePolicy(cand, 0), 3, { replyText: formatReply });
    assert.equal(r.replayed, 5);
    assert.deepEqual(
      r.changes.map((c) => [c.change, c.clientIp, c.sender, c.messages, c.attributionNow, c.attributionCandidate]),
      [
        ['newly rejected', '127.0.0.3', 'app@example.com', 1, 'direct-send', 'direct-send'],
        ['no longer rejected', '127.0.0.66', '', 1, '', ''],
      ],
    );
    assert.equal(r.changes[0]?.reply, '550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources');
    assert.deepEqual(r.changes[0]?.samples, [`${b1} "report"`]);
    assert.equal(r.summary[0], 'replayed 5 transactions: 1 newly rejected (from 1 sources), 1 no longer rejected (from 1 sources), 3 unchanged');
    const byAttr = r.sections[1]?.rows.find((x) => x.attribution === 'direct-send');
    assert.deepEqual(byAttr, { attribution: 'direct-send', transactions: 3, newlyRejected: 1, noLongerRejected: 0 });
    assert.ok(a1);
  } finally {
    t.close();
  }
});

test('replay: the memoised replay (each distinct fact tuple once) gives exactly the per-row result on a varied trace', () => {
  const t = tempTrace();
  try {
    const db = t.db;
    const at = Date.now() - 3_600_000;
    const refuse = (id: string, rcpt: string): void => {
      db.prepare("INSERT INTO trace_event (message_id, at, event, recipient, detail) VALUES (?, ?, 'REJECT', ?, '550 5.7.1 refused')").run(id, at + 1, rcpt);
    };
    // Rows that differ from a base in one fact each, every variant twice (so the memo is hit),
    // interleaved so samples and counts depend on the order rows are read.
    const variants: Parameters<typeof addRow>[1][] = [
      {},
      { clientIp: '127.0.0.5' },
      { clientIp: '127.0.0.9', mailFrom: 'bob@contoso.test', headerFrom: 'ceo@example.com', attribution: 'anonymous-external' },
      { clientIp: '127.0.0.9', mailFrom: 'bob@contoso.test', headerFrom: 'bob@contoso.test', attribution: 'anonymous-external' },
      { mailFrom: 'Printer@Example.com' },
      { mailFrom: undefined, recipients: [] },
      { recipients: ['user@example.com', 'other@example.com'] },
      { recipients: ['x@elsewhere.test'] },
      { recipients: [] },
      { certCn: 'dev.partner.test', certVerified: true, tlsVersion: 'TLSv1.3' },
      { certCn: 'dev.partner.test', certVerified: false, tlsVersion: 'TLSv1.3' },
      { certCn: 'x.test', certVerified: true, tlsVersion: 'TLSv1.3' },
      { certCn: 'x.test', certSans: ['dev.partner.test'], certVerified: true, tlsVersion: 'TLSv1.3' },
      { certCn: 'x.test', certSans: ['y.test'], certVerified: true, tlsVersion: 'TLSv1.3' },
      { clientIp: '127.0.0.6', tlsVersion: 'TLSv1.3' },
      { clientIp: '127.0.0.6' },
      { authUser: 'printer@example.com', listener: 'submission' },
      { authUser: 'printer@example.com' },
      { listener: 'relay' },
      { helo: 'other.test' },
      { clientIp: '127.0.0.66' },
    ];
    let n = 0;
    for (let round = 0; round < 2; round++) {
      for (const v of variants) {
        const id = addRow(db, { receivedAt: at + n++, subject: `s${n}`, ...v });
        if (v?.recipients?.length === 0 && !('mailFrom' in v) && round === 1) refuse(id, 'user@example.com');
      }
    }
    const cur = config({
      receiveConnectors: [
        { name: 'mx', port: 2525, role: 'mx' },
        { name: 'relay', port: 2526, role: 'relay', defaultDeny: true },
        { name: 'submission', port: 2587, role: 'submission' },
      ],
    });
    const cand = applySets(cur, [
      'org.rejectDirectSend=true',
      'org.rejectDirectSendHeaderFrom=true',
      'inboundConnectors=[{"name":"Cert","senderDomains":["example.com"],"tlsSenderCertificateName":"dev.partner.test"},{"name":"Ip","connectorType":"OnPremises","senderIPAddresses":["127.0.0.5/32"]},{"name":"Tls","senderDomains":["example.com"],"senderIPAddresses":["127.0.0.6/32"],"requireTls":true}]',
      'lists.block.ips=[]',
    ]);
    const w = reportWindow('1d', Date.now(), 90);
    const memo = replayWith(db, w, compilePolicy(cur, 1), compilePolicy(cand, 0), 3, { replyText: formatReply });
    const perRow = replayWith(db, w, compilePolicy(cur, 1), compilePolicy(cand, 0), 3, { memo: false, replyText: formatReply });
    assert.deepEqual(memo, perRow);
    assert.equal(memo.replayed, variants.length * 2);
    const changed = new Set(memo.changes.map((c) => `${c.change} ${c.clientIp} ${c.sender}`));
    assert.ok(changed.size >= 3, `a varied set: several sources change (${[...changed].join('; ')})`);
  } finally {
    t.close();
  }
});
