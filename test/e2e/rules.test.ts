/**
 * End to end: transport rules through a real `mailgate serve`, created with the real `mailgate rule`
 * commands. Microsoft's Direct Send rule from the template, in Audit mode: the message is delivered
 * and the trace holds a RULE event saying it would have quarantined; switched to Enforce (a new
 * config version the running gateway picks up): the message is held with the rule's reason. A
 * reject rule answers in the SMTP session with its 5.7.9xx code and text (attachment found by the
 * streamed body scan); header edits are seen at the next hop.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { runCli } from '../helpers/cli-run.ts';
import { applyConfig, baseConfig, freePort, nextHopRoute, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';
import { registerRule } from '../../src/cli/commands/rule.ts';
import { registerPolicy } from '../../src/cli/commands/policy.ts';
import { registerPolicyReplay } from '../../src/cli/replay.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { QueueStore } from '../../src/queue/index.ts';
import { getTrace } from '../../src/stores/sqlite/trace-search.ts';

let sink: Sink;
let gw: Gateway;
let dir: string;
let port = 0;

const rule = (args: string[]): Promise<string> => runCli(dir, ['rule', ...args], [registerRule]);

before(async () => {
  sink = await startSink();
  dir = tempDir();
  port = await freePort();
  applyConfig(dir, {
    ...baseConfig({ mx: port, submission: await freePort() }),
    authentication: { enabled: false },
    inboundConnectors: [{ name: 'OnPrem', connectorType: 'OnPremises', senderIPAddresses: ['127.0.0.30/32'] }],
    routes: [nextHopRoute(sink.port)],
  });
  await rule(['add', '--template', 'direct-send-quarantine', '--except-ip', '127.0.0.77']);
  await rule(['add', '--name', 'No executables', '--conditions', '{attachmentExtensionMatchesWords: [exe]}', '--actions', '{rejectMessage: {enhancedStatusCode: 5.7.950, reasonText: "Executable attachments are not accepted"}}']);
  await rule(['add', '--name', 'External tag', '--conditions', '{attributionIs: [anonymous-external]}', '--actions', '{prependSubject: "[EXT] ", setHeader: {name: X-External, value: "yes"}, removeHeader: X-Secret, applyHtmlDisclaimer: {text: "CAUTION: external sender"}, generateIncidentReport: soc@example.com}']);
  await rule(['add', '--name', 'Drop', '--conditions', '{subjectOrBodyContainsWords: [dropme]}', '--actions', '{deleteMessage: true}']);
  await rule(['add', '--name', 'Review', '--conditions', '{headerContainsWords: {header: X-Route, words: [review]}}', '--actions', '{redirectMessageTo: [review@example.com], blindCopyTo: [archive@example.com]}']);
  await rule(['add', '--name', 'Notify test', '--mode', 'AuditAndNotify', '--conditions', '{connectorIs: [OnPrem]}', '--actions', '{prependSubject: "[T] "}']);
  gw = await startGateway(dir, [port]);
});

after(async () => {
  await gw?.stop();
  await sink?.close();
  removeDir(dir);
});

async function send(ip: string, from: string, raw: string): Promise<{ code?: number; text?: string; id?: string }> {
  const c = await SmtpTestClient.connect({ port, localAddress: ip });
  await c.cmd('EHLO client.test');
  const r = await c.sendMail(from, ['user@example.com'], raw);
  await c.quit();
  return { code: r.eod?.code, text: r.eod?.text, id: /queued as (\S+)/.exec(r.eod?.text ?? '')?.[1] };
}

async function delivered(subject: string): Promise<string> {
  for (const end = Date.now() + 10_000; Date.now() < end; ) {
    const m = sink.messages.find((x) => x.raw.includes(subject));
    if (m) return m.raw;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${subject} not delivered`);
}

function traceOf(id: string): NonNullable<ReturnType<typeof getTrace>> {
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    const t = getTrace(db, id);
    assert.ok(t, `no trace for ${id}`);
    return t;
  } finally {
    db.close();
  }
}

async function ruleEvents(id: string): Promise<string[]> {
  // The trace writer is buffered: wait (bounded) for the row's events.
  for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    const t = getTraceSafe(id);
    if (t && t.events.some((e) => e.event === 'RECEIVE')) return t.events.filter((e) => e.event === 'RULE').map((e) => e.detail ?? '');
  }
  throw new Error(`no RECEIVE event traced for ${id}`);
}

function getTraceSafe(id: string): ReturnType<typeof getTrace> {
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    return getTrace(db, id);
  } finally {
    db.close();
  }
}

test('Direct Send template in Audit: delivered, and a RULE event says it would have quarantined', async () => {
  const r = await send('127.0.0.9', 'scanner@example.com', message({ from: 'scanner@example.com', to: 'user@example.com', subject: 'audit scan' }));
  assert.equal(r.code, 250, r.text);
  assert.ok(r.id);
  await delivered('audit scan');
  const events = await ruleEvents(r.id);
  assert.deepEqual(events, ['rule Direct Send quarantine mode=Audit ran=none would-have-run=quarantine']);
  assert.ok(traceOf(r.id).message.reasons?.includes('rule:Direct Send quarantine'));
});

test('the template exempts the listed device IP', async () => {
  const r = await send('127.0.0.77', 'mfp@example.com', message({ from: 'mfp@example.com', to: 'user@example.com', subject: 'device scan' }));
  assert.equal(r.code, 250, r.text);
  await delivered('device scan');
  assert.deepEqual(await ruleEvents(r.id ?? ''), []);
});

test('a reject rule answers in session with its code and text (attachment found by the body scan)', async () => {
  const boundary = 'b0undary';
  const raw = [
    'From: <someone@outside.test>',
    'To: <user@example.com>',
    'Subject: tool',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain',
    '',
    'see attached',
    `--${boundary}`,
    'Content-Type: application/octet-stream; name="setup.EXE"',
    'Content-Disposition: attachment; filename="setup.EXE"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('MZ not really').toString('base64'),
    `--${boundary}--`,
    '',
  ].join('\r\n');
  const r = await send('127.0.0.9', 'someone@outside.test', raw);
  assert.equal(r.code, 550);
  assert.match(r.text ?? '', /^550 5\.7\.950 Executable attachments are not accepted \[[^\]]+\]$/);
});

test('header edits are applied on the way to the next hop', async () => {
  const r = await send('127.0.0.9', 'news@outside.test', message({ from: 'news@outside.test', to: 'user@example.com', subject: 'edit me', extraHeaders: ['X-Secret: internal-only', 'X-External: forged'] }));
  assert.equal(r.code, 250, r.text);
  const got = await delivered('edit me');
  const head = got.slice(0, got.indexOf('\r\n\r\n') + 2);
  assert.match(head, /\r\nSubject: \[EXT\] edit me\r\n/);
  assert.equal(head.match(/^X-External: .*$/gim)?.join('|'), 'X-External: yes');
  assert.doesNotMatch(head, /X-Secret/i);
  assert.equal(got.slice(head.length + 2), 'CAUTION: external sender\r\n\r\nhello\r\n', 'the banner tops the body');
  // The incident report: to the rule's address, null sender, the original header section attached.
  const report = await delivered(`Incident report: rule External tag matched ${r.id}`);
  const sunk = sink.messages.find((m) => m.raw === report);
  assert.deepEqual(sunk?.to, ['soc@example.com']);
  assert.equal(sunk?.from, '');
  assert.match(report, /Content-Type: text\/rfc822-headers\r\n[\s\S]*X-Secret: internal-only/);
  assert.match(report, /Detail: rule External tag mode=Enforce ran=prependSubject\+setHeader\+removeHeader\+applyHtmlDisclaimer\+generateIncidentReport/);
});

test('the same rule in Enforce: held in quarantine with the rule as its reason', async () => {
  await rule(['set', 'Direct Send quarantine', '--mode', 'Enforce']);
  // The running gateway picks up the new config version within a second or so: retry (bounded).
  let held: { id: string } | undefined;
  for (let i = 0; i < 20 && !held; i++) {
    const r = await send('127.0.0.9', 'scanner@example.com', message({ from: 'scanner@example.com', to: 'user@example.com', subject: `enforce scan ${i}` }));
    assert.equal(r.code, 250, r.text);
    const events = await ruleEvents(r.id ?? '');
    if (events.some((e) => e.includes('mode=Enforce'))) held = { id: r.id ?? '' };
    else await new Promise((res) => setTimeout(res, 250));
  }
  assert.ok(held, 'the Enforce version was never applied');
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    const row = new QueueStore(db).get(held.id);
    assert.equal(row?.state, 'hold');
    assert.deepEqual(row?.meta.facts.quarantine, { kind: 'rule', rule: 'Direct Send quarantine', text: 'rule Direct Send quarantine' });
  } finally {
    db.close();
  }
  const t = traceOf(held.id);
  assert.equal(t.message.status, 'Quarantined');
  assert.ok(t.events.some((e) => e.event === 'QUARANTINE' && e.detail === 'rule Direct Send quarantine'));
  assert.ok(t.events.some((e) => e.event === 'RULE' && e.detail === 'rule Direct Send quarantine mode=Enforce ran=quarantine'));
});

test("rule replay: the trace's facts judged again; rules needing the body are undetermined, not guessed", async () => {
  const rows = JSON.parse(await rule(['replay', '--since', '1d', '--format', 'json'])) as Array<{ rule: string; hits: number; undetermined: number; needs: string }>;
  const by = new Map(rows.map((r) => [r.rule, r]));
  // Every Direct Send message from 127.0.0.9 (one in Audit, at least one in Enforce); never the exempt device.
  assert.ok((by.get('Direct Send quarantine')?.hits ?? 0) >= 2, JSON.stringify(rows));
  assert.equal(by.get('External tag')?.hits, 1, JSON.stringify(rows));
  // The attachment rule reads the body, which the trace does not hold (the refused message is not replayed).
  assert.equal(by.get('No executables')?.hits, 0);
  assert.ok((by.get('No executables')?.undetermined ?? 0) >= 1);
  assert.equal(by.get('No executables')?.needs, 'attachmentExtensionMatchesWords');
});

test('policy replay reports the candidate\'s transport rules over the same window', async () => {
  const out = await runCli(dir, ['policy', 'replay', '--since', '1d', '--format', 'json'], [
    (p, io) => {
      registerPolicy(p);
      const policy = p.commands.find((c) => c.name() === 'policy');
      if (policy) registerPolicyReplay(policy, io);
    },
  ]);
  assert.match(out, /transport rules \(candidate\)/);
  assert.match(out, /"rule": "Direct Send quarantine"/);
});

test('deleteMessage: 250, never queued, traced Failed with the rule; redirect and bcc change the envelope', async () => {
  const d = await send('127.0.0.9', 'news@outside.test', message({ from: 'news@outside.test', to: 'user@example.com', subject: 'please dropme now' }));
  assert.equal(d.code, 250, d.text);
  const events = await ruleEvents(d.id ?? '');
  assert.ok(events.includes('rule Drop mode=Enforce ran=deleteMessage'), events.join('|'));
  const t = traceOf(d.id ?? '');
  assert.equal(t.message.status, 'Failed');
  assert.ok(t.events.some((e) => e.event === 'FAIL' && /deleted by transport rule Drop/.test(e.detail ?? '')));
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    assert.equal(new QueueStore(db).get(d.id ?? ''), undefined, 'nothing queued');
  } finally {
    db.close();
  }
  const r = await send('127.0.0.9', 'news@outside.test', message({ from: 'news@outside.test', to: 'user@example.com', subject: 'route me', extraHeaders: ['X-Route: Review please'] }));
  assert.equal(r.code, 250, r.text);
  await delivered('Subject: [EXT] route me');
  const copiesOf = (): string[] => sink.messages.filter((m) => m.raw.includes('Subject: [EXT] route me')).flatMap((m) => m.to).sort();
  for (const end = Date.now() + 5000; copiesOf().length < 2 && Date.now() < end; ) await new Promise((res) => setTimeout(res, 50));
  const copies = copiesOf();
  assert.deepEqual(copies, ['archive@example.com', 'review@example.com']);
  assert.ok((await ruleEvents(r.id ?? '')).some((e) => e === 'redirected from user@example.com to review@example.com'));
  // Only the External tag rule's incident report (to soc@) ever carried the dropped message's subject.
  await delivered(`Incident report: rule External tag matched ${d.id ?? ''}`);
  assert.deepEqual(sink.messages.filter((m) => m.raw.includes('dropme')).flatMap((m) => m.to), ['soc@example.com']);
});

test('AuditAndNotify: delivered untouched, and the sender inside the organization gets the notice', async () => {
  const r = await send('127.0.0.30', 'app@example.com', message({ from: 'app@example.com', to: 'user@example.com', subject: 'notify me' }));
  assert.equal(r.code, 250, r.text);
  const got = await delivered('Subject: notify me\r\n');
  assert.doesNotMatch(got, /\[T\]/, 'audit modes never edit');
  const notice = await delivered('Notice: your message met the mail flow rule Notify test');
  const sunk = sink.messages.find((m) => m.raw === notice);
  assert.deepEqual(sunk?.to, ['app@example.com']);
  assert.equal(sunk?.from, '');
  assert.match(notice, /Once the rule is enforced, it would: prependSubject\./);
  assert.deepEqual(await ruleEvents(r.id ?? ''), ['rule Notify test mode=AuditAndNotify ran=none would-have-run=prependSubject']);
});
