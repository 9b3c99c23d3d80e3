/**
 * @module trace/reports/test-rows
 * Test support for the report tests: a temp SQLite trace and a compact way to insert rows,
 * including the SPF/DKIM/DMARC columns the auth stage fills. Used by tests and the bench only.
 * Touches: a temp directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../core/sqlite.ts';
import type { TraceMessage } from '../events.ts';
import { ensureTraceSchema, insertMessageSync } from '../store.ts';

export interface TempTrace {
  db: Db;
  file: string;
  close(): void;
}

/** A fresh trace store in a temp directory (removed by close()). */
export function tempTrace(): TempTrace {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-reports-'));
  const file = join(dir, 'mailgate.db');
  const db = openDatabase(file);
  ensureTraceSchema(db);
  return {
    db,
    file,
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let seq = 0;

export type RowSpec = Partial<TraceMessage> & { auth?: { spf?: string; dkim?: string; dmarc?: string } };

/** One row, as addRow inserts it (for any TraceStore's write). */
export function traceRow(over: RowSpec = {}): TraceMessage {
  const { auth, ...m } = over;
  const id = m.id ?? `T${String(++seq).padStart(8, '0')}`;
  return {
    connectionId: `C${seq}`,
    receivedAt: Date.now() - 3_600_000,
    clientIp: '127.0.0.2',
    listener: 'mx',
    helo: 'client.test',
    mailFrom: 'printer@example.com',
    recipients: ['user@example.com'],
    subject: 'scan',
    attribution: 'direct-send',
    status: 'Delivered',
    source: 'gateway',
    ...m,
    ...(auth ? { spf: auth.spf, dkim: auth.dkim, dmarc: auth.dmarc } : {}),
    id,
  };
}

/** Insert one row: defaults to an accepted direct-send message; `auth` sets spf/dkim/dmarc. */
export function addRow(db: Db, over: RowSpec = {}): string {
  const row = traceRow(over);
  insertMessageSync(db, row);
  return row.id;
}
