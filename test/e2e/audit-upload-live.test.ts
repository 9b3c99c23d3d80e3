/**
 * An audit export uploaded to a running gateway's admin API is imported in chunks (ops/audit
 * LIVE_IMPORT_CHUNK_ROWS): while a large upload runs, the gateway keeps answering 250 to every
 * message sent to it (its queue rows and trace commit between the import's chunks), and the
 * upload lands whole. (Imported in one transaction instead, this test failed when it was written:
 * the upload's request itself failed, after about two minutes.)
 * Touches: a temp data dir, loopback ports, the gateway process it starts (stopped by PID).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { applyConfig, baseConfig, cli, freePort, removeDir, startGateway, tempDir } from '../helpers/gateway.ts';
import { message, SmtpTestClient } from '../helpers/smtp-client.ts';
import { csv, MESSAGE_TRACE_HEADER, usTime } from '../audit/fixtures.ts';

const READY_MS = 120_000; // a bound for a busy machine, not a timing assertion
const ROWS = 100_000; // about 13 MB: twenty chunks of 5,000 rows
const MAX_MESSAGES = 300; // the load is bounded in count whatever the upload's pace
const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

function bigTrace(n: number): string {
  const now = Date.now();
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    rows.push([usTime(now - 86_400_000 - i * 1000), `scanner${i % 50}@contoso.com`, `user${i % 997}@contoso.com`, `Scan ${i}`, 'Delivered', '', `203.0.113.${i % 200}`, '5000', `<m${i}@printer>`, `cccccccc-0000-0000-0000-${i.toString().padStart(12, '0')}`]);
  }
  return csv(MESSAGE_TRACE_HEADER, rows);
}

test('a large audit upload does not stop the gateway answering 250', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const p = { mx: await freePort(), submission: await freePort(), admin: await freePort() };
  applyConfig(dir, baseConfig(p));
  const added = cli(dir, ['token', 'add', 'uploader', '--scope', 'admin']);
  assert.equal(added.code, 0, added.stderr);
  const secret = added.stdout.trim();
  const body = bigTrace(ROWS);
  const gw = await startGateway(dir, [p.mx, p.submission, p.admin], { readyTimeoutMs: READY_MS });
  try {
    let uploading = true;
    const upload = fetch(`http://127.0.0.1:${p.admin}/api/v1/audit/imports?name=tenant&file=trace.csv&tenantDomains=contoso.com&dateFormat=mdy`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'text/csv' },
      body,
    })
      .catch((e: unknown) => e as Error)
      .finally(() => (uploading = false));
    const replies: { code: number; during: boolean }[] = [];
    for (let i = 0; i < MAX_MESSAGES && (uploading || replies.length === 0); i++) {
      const c = await SmtpTestClient.connect({ port: p.mx, timeoutMs: 60_000 });
      try {
        await c.cmd('EHLO sender.example.net');
        const r = await c.sendMail('news@sender.example.net', ['user@example.com'], message({ from: 'news@sender.example.net', to: 'user@example.com', subject: `during upload ${i}` }));
        replies.push({ code: r.eod?.code ?? r.data?.code ?? r.mail.code, during: uploading });
        await c.quit();
      } finally {
        c.destroy();
      }
    }
    const res = await upload;
    if (res instanceof Error) assert.fail(`the upload failed: ${res.message} (the gateway log: ${gw.log().slice(-2000)})`);
    assert.equal(res.status, 201, await res.clone().text());
    const summary = (await res.json()) as { files: { rows: number; inserted: number }[]; dataset: { rows: number } };
    assert.deepEqual(summary.files.map((f) => [f.rows, f.inserted]), [[ROWS, ROWS]]);
    assert.ok(replies.some((r) => r.during), 'at least one message was answered while the upload ran');
    assert.deepEqual(replies.filter((r) => r.code !== 250), [], 'every message got 250');
  } finally {
    await gw.stop();
  }
});
