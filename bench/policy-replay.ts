/**
 * @module bench/policy-replay
 * Speed of `mailgate policy replay`: fills a trace with N gateway rows (default 1,000,000) shaped
 * like an MX's month — a few dozen devices and apps sending as the tenant domain (Direct Send),
 * a few thousand internet senders, TLS on most, a certificate on some, 1 % with a recipient refused
 * one by one (a REJECT event) and one DELIVER event per message — then replays them under the
 * configuration in force and a candidate (RejectDirectSend on, a connector for half the devices),
 * exactly as the command does (ops/policy-replay `replayTraceFrom` over the SQLite TraceStore),
 * and prints the time and the result summary.
 * Usage: `node --import tsx bench/policy-replay.ts [rows] [--keep FILE]` (`--keep` writes the
 * trace to FILE and reuses it when it exists, so before/after runs read the same rows).
 * The target is under 10 s for 1,000,000 rows on this machine; not a timed test.
 * Touches: a temp directory (removed at the end) or the --keep file.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePolicy, validateConfig, type ConfigInput } from '../src/config/index.ts';
import { openDatabase, type Db } from '../src/core/sqlite.ts';
import { replayTraceFrom } from '../src/ops/policy-replay.ts';
import { formatReply } from '../src/smtp/replies.ts';
import { sqliteTraceStore } from '../src/stores/sqlite/trace-store.ts';
import { ensureTraceSchema, type TraceMessage } from '../src/trace/index.ts';
import { MESSAGE_COLUMNS, messageToRecord } from '../src/trace/rows.ts';
import { reportWindow } from '../src/trace/reports/index.ts';

const args = process.argv.slice(2);
const keepAt = args.indexOf('--keep');
const keep = keepAt >= 0 ? args[keepAt + 1] : undefined;
const rows = Number(args.find((a, i) => /^\d+$/.test(a) && (keepAt < 0 || i !== keepAt + 1)) ?? 1_000_000);
const DAY = 86_400_000;
const now = Date.now();

/** Row i of the synthetic month (deterministic). */
function syntheticRow(i: number, n: number): TraceMessage {
  const device = i % 10 < 6; // 60 % Direct Send from 40 devices and apps
  const d = i % 40;
  const ext = (i * 7919) % 3000; // 3,000 internet sources
  const tls = i % 5 !== 0;
  const withCert = device && d % 8 === 0;
  return {
    id: `B${i.toString(36).padStart(8, '0')}`,
    connectionId: `C${i}`,
    receivedAt: now - 29 * DAY + Math.floor((i / n) * 28 * DAY),
    clientIp: device ? `10.1.${d}.${10 + (d % 5)}` : `198.51.${ext % 200}.${ext % 97}`,
    clientPort: 40000 + (i % 20000),
    helo: device ? `dev${d}.contoso.com` : `mail${ext % 500}.sender${ext % 300}.example`,
    listener: 'mx',
    tlsVersion: tls ? 'TLSv1.3' : undefined,
    certCn: withCert ? `dev${d}.contoso.com` : undefined,
    certSans: withCert ? [`dev${d}.contoso.com`] : undefined,
    certVerified: withCert ? true : undefined,
    mailFrom: device ? `scanner${d}@contoso.com` : `user${ext % 1000}@sender${ext % 300}.example`,
    headerFrom: device ? `scanner${d}@contoso.com` : `user${ext % 1000}@sender${ext % 300}.example`,
    recipients: [`rcpt${i % 150}@contoso.com`],
    subject: `Message ${i}`,
    size: 2000 + (i % 5000),
    attribution: device ? 'direct-send' : 'anonymous-external',
    status: 'Delivered',
    source: 'gateway',
  };
}

function fill(db: Db, n: number): void {
  ensureTraceSchema(db);
  const cols = [...MESSAGE_COLUMNS];
  const ins = db.prepare(`INSERT INTO trace_message (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  const ev = db.prepare('INSERT INTO trace_event (message_id, at, event, recipient, detail) VALUES (?, ?, ?, ?, ?)');
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const m = syntheticRow(i, n);
      const rec = messageToRecord(m, now);
      ins.run(cols.map((c) => rec[c]));
      ev.run(m.id, m.receivedAt + 50, 'DELIVER', m.recipients[0], '250 ok');
      if (i % 100 === 7) ev.run(m.id, m.receivedAt + 10, 'REJECT', `nobody${i % 30}@contoso.com`, '550 5.4.1 Recipient address rejected: Access denied');
    }
  });
  for (let i = 0; i < n; i += 20_000) batch(i, Math.min(n, i + 20_000));
}

const dir = keep ? undefined : mkdtempSync(join(tmpdir(), 'mailgate-bench-replay-'));
const file = keep ?? join(dir as string, 'mailgate.db');
try {
  const fresh = !existsSync(file);
  const db = openDatabase(file);
  if (fresh) {
    const t = performance.now();
    fill(db, rows);
    console.log(`filled ${rows.toLocaleString('en-US')} trace rows in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const base: ConfigInput = {
    acceptedDomains: [{ domainName: 'contoso.com' }],
    receiveConnectors: [{ name: 'mx', port: 2525, role: 'mx' }],
  };
  const current = compilePolicy(validateConfig(base), 1);
  const devices = Array.from({ length: 20 }, (_, d) => `10.1.${d}.${10 + (d % 5)}/32`);
  const candidate = compilePolicy(
    validateConfig({ ...base, organization: { rejectDirectSend: true }, inboundConnectors: [{ name: 'Devices', connectorType: 'OnPremises', senderIPAddresses: devices }] }),
    0,
  );
  const t = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await replayTraceFrom(sqliteTraceStore(db), reportWindow('31d', now, 90), current, candidate, 3, { replyText: formatReply });
  const secs = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  db.close();
  console.log(r.summary[0]);
  // CPU time beside wall time: on a shared machine the wall time includes waiting for a core.
  console.log(`replayed ${r.replayed.toLocaleString('en-US')} transactions in ${secs.toFixed(1)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s): ${Math.round(r.replayed / secs).toLocaleString('en-US')} transactions/s`);
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
