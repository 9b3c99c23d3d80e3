/**
 * @module bench/reports
 * Times every trace report over 1,000,000 synthetic trace rows (target: under 5 s each).
 * Fills a temp SQLite trace in one transaction with one prepared statement: 90 days of traffic,
 * 25% direct-send (2,000 sources, some rejected with 5.7.68), 25% through connectors, the rest
 * anonymous-external; TLS and SPF/DKIM/DMARC mixed. Then runs inbound, direct-send, stale-allow,
 * the four saved hunts and policy replay (30 days), printing seconds for each. Everything runs
 * through the SQLite TraceStore, as the commands do.
 * Usage: node --import tsx bench/reports.ts [rows]
 * Touches: a temp directory (removed at the end).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/core/sqlite.ts';
import { compilePolicy, validateConfig } from '../src/config/index.ts';
import { ensureTraceSchema } from '../src/trace/index.ts';
import { SAVED_HUNTS } from '../src/trace/hunt.ts';
import { directSendReportFrom, inboundReportFrom, reportWindow, staleAllowReportFrom } from '../src/trace/reports/index.ts';
import { replayTraceFrom } from '../src/ops/policy-replay.ts';
import { formatReply } from '../src/smtp/replies.ts';
import { sqliteTraceStore } from '../src/stores/sqlite/trace-store.ts';

const N = Number(process.argv[2] ?? 1_000_000);
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'mailgate-bench-'));
const file = join(dir, 'mailgate.db');
const db = openDatabase(file);
const trace = sqliteTraceStore(db);
ensureTraceSchema(db);
// Bulk load without indexes, then build them (what a restore would do); the reports use the real ones.
const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'trace_message' AND sql IS NOT NULL").pluck().all() as string[];
for (const name of indexes) db.exec(`DROP INDEX ${name}`);

// mulberry32: a small deterministic PRNG, so every run fills the same trace.
let seed = 42;
const rnd = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

const now = Date.now();
const t0 = performance.now();
const insert = db.prepare(
  `INSERT INTO trace_message (id, connection_id, received_at, client_ip, helo, listener, tls_version, mail_from, header_from, recipients, rcpt_count,
     subject, attribution, connector, connector_type, connector_matched_by, status, reply, source, spf, dkim, dmarc, updated_at)
   VALUES (?, ?, ?, ?, ?, 'mx', ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, 'gateway', ?, ?, ?, ?)`,
);
db.transaction(() => {
  for (let i = 0; i < N; i++) {
    const r = rnd();
    const at = now - Math.floor(rnd() * 90 * DAY);
    const tls = pick([null, 'TLSv1.2', 'TLSv1.3', 'TLSv1.3']);
    const auth = [pick(['pass', 'fail', 'softfail', null]), pick(['pass', 'fail', 'none', null]), pick(['pass', 'fail', 'none', null])] as const;
    const rcpt = `["user${i % 500}@example.com"]`;
    if (r < 0.25) {
      const src = Math.floor(rnd() * 2000);
      const ip = `198.51.${Math.floor(src / 250)}.${src % 250}`;
      const from = `dev${src % 300}@example.com`;
      const rejected = rnd() < 0.1;
      insert.run(`M${i}`, `C${i}`, at, ip, `host${src}`, tls, from, from, rcpt, `scan ${i % 50}`, 'direct-send', null, null, null,
        rejected ? 'Rejected' : 'Delivered', rejected ? '550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources' : null, ...auth, at);
    } else if (r < 0.5) {
      const c = Math.floor(rnd() * 20);
      insert.run(`M${i}`, `C${i}`, at, `203.0.113.${c}`, 'mta.partner.test', tls, `app@partner${c}.test`, null, rcpt, 'invoice', 'connector', `Partner ${c}`, c < 15 ? 'Partner' : 'OnPremises', 'ip', 'Delivered', null, ...auth, at);
    } else {
      const ip = `192.0.${Math.floor(rnd() * 200)}.${Math.floor(rnd() * 250)}`;
      insert.run(`M${i}`, `C${i}`, at, ip, 'mail.sender.test', tls, `news@sender${i % 5000}.test`, null, rcpt, 'hello', 'anonymous-external', null, null, null, 'Delivered', null, ...auth, at);
    }
  }
})();
ensureTraceSchema(db);
db.exec('ANALYZE');
const fill = (performance.now() - t0) / 1000;
console.log(`filled ${N} rows and built the indexes in ${fill.toFixed(1)} s (${file})`);

async function time(name: string, fn: () => unknown): Promise<void> {
  const s = performance.now();
  const out = await fn();
  const secs = (performance.now() - s) / 1000;
  console.log(`${name.padEnd(40)} ${secs.toFixed(2)} s${secs > 5 ? '  (over the 5 s target)' : ''}${typeof out === 'string' ? '  ' + out : ''}`);
}

const w90 = reportWindow('90d', now + 1, 90);
const w7 = reportWindow('7d', now + 1, 90);
const cfg = validateConfig({
  acceptedDomains: [{ domainName: 'example.com' }],
  receiveConnectors: [{ name: 'mx', port: 2525 }],
  inboundConnectors: Array.from({ length: 20 }, (_, c) => ({ name: `Partner ${c}`, connectorType: c < 15 ? 'Partner' : 'OnPremises', senderIPAddresses: [`203.0.113.${c}/32`, `10.9.${c}.0/24`] })),
  lists: { allow: { ips: ['192.0.2.0/24', '100.64.0.0/10'], senderDomains: ['sender1.test', 'nobody.test'] }, block: { ips: [], senderDomains: [] } },
});
await time('report inbound --since 90d', async () => `${(await inboundReportFrom(trace, w90)).sections[1]?.rows.length} rows`);
await time('report inbound --since 7d --connector-type none --tls none', async () => (await inboundReportFrom(trace, w7, { connectorType: 'none', tls: 'none' })).summary[0]);
await time('report direct-send --since 90d', async () => (await directSendReportFrom(trace, w90)).summary[0]);
await time('report stale-allow --since 90d', async () => (await staleAllowReportFrom(trace, w90, { connectors: cfg.inboundConnectors, allow: cfg.lists.allow })).summary[0]);
for (const name of Object.keys(SAVED_HUNTS)) {
  await time(`report hunt --saved ${name}`, async () => `${(await trace.hunt(SAVED_HUNTS[name]?.sql ?? '', { timeoutMs: 60_000 })).rows.length} rows`);
}
const cur = compilePolicy(cfg, 1);
const cand = compilePolicy({ ...cfg, organization: { ...cfg.organization, rejectDirectSend: true } }, 0);
await time('policy replay --since 30d (RejectDirectSend)', async () => (await replayTraceFrom(trace, reportWindow('30d', now + 1, 90), cur, cand, 3, { replyText: formatReply })).summary[0]);
db.close();
rmSync(dir, { recursive: true, force: true });
