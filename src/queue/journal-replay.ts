/**
 * @module queue/journal-replay
 * Settling the commit journal segments of a process that is gone (journal.ts): start-up recovery
 * (before the spool scan) and the queue owner for a receive worker that died. Every message of a
 * segment gets the bytes it was acknowledged with in msg/ — written back when its file is missing
 * or differs (a new file, renamed into place), unless its queue row is final — flushed; then
 * msg/ is fsynced and the segments are deleted. A recent segment of another process that still
 * runs is left to it.
 * Touches: the spool's journal/, msg/ and tmp/ directories.
 * RFCs: RFC 5321 §6.1 (what was acknowledged is not lost).
 */
import fs, { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { DirSync } from './dir-sync.ts';
import { flushIfPresent } from './journal.ts';
import { parseSegment } from './journal-format.ts';
import { SPOOL_NAME } from './spool-format.ts';

/** What replayJournal did, by count. */
export interface ReplayReport {
  segments: number;
  /** Segments left alone: their process still runs (a receive worker of an earlier gateway). */
  skipped: number;
  records: number;
  /** Files written back from the journal (missing, or not the bytes acknowledged). */
  restored: number;
}

export interface ReplayDeps {
  journalDir: string;
  msgDir: string;
  /** Where a restored file is written before it is renamed into msg/ (never into an existing inode). */
  tmpDir: string;
  msgDirSync: DirSync;
  /** True when the queue row of `id` is final: its message needs no file any more. */
  isFinal: (id: string) => boolean;
  /** Only segments whose name passes (default: all; the queue owner passes a dead worker's pid). */
  select?: (name: string) => boolean;
}

/**
 * Settle segments left by a process that is gone (see the module comment): every message of
 * them gets its acknowledged bytes in msg/ (written back when missing or different, unless its
 * row is final), flushed, then msg/ is fsynced and the segments are deleted.
 */
export async function replayJournal(deps: ReplayDeps): Promise<ReplayReport> {
  const report: ReplayReport = { segments: 0, skipped: 0, records: 0, restored: 0 };
  let names: string[];
  try {
    names = (await fsp.readdir(deps.journalDir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return report;
    throw err;
  }
  const done: string[] = [];
  for (const name of names) {
    if (deps.select && !deps.select(name)) continue;
    const path = join(deps.journalDir, name);
    if (await inUse(name, path)) {
      report.skipped++;
      continue;
    }
    const records = parseSegment(await fsp.readFile(path));
    report.segments++;
    for (const rec of records) {
      if (!SPOOL_NAME.test(rec.id)) continue;
      report.records++;
      const file = join(deps.msgDir, rec.id);
      if (await sameBytes(file, rec.payload)) {
        await flushIfPresent(file);
      } else if (!deps.isFinal(rec.id)) {
        // Into a new file, renamed over the name: after a crash on a file system without a journal
        // msg/<id> can share its inode with another message's file (a reused one), which an
        // overwrite in place would destroy.
        const tmp = join(deps.tmpDir, `${rec.id}.replay`);
        await writeDurably(tmp, rec.payload);
        await fsp.rename(tmp, file);
        report.restored++;
      }
    }
    done.push(path);
  }
  if (done.length === 0) return report;
  await deps.msgDirSync.sync();
  for (const path of done) await fsp.unlink(path);
  return report;
}

/** How recently a segment of a live process must have changed for a replay to leave it alone. */
const LIVE_SEGMENT_MS = 60_000;

/**
 * True when the segment's process (its name starts with the pid) is another process that still
 * runs and the segment changed in the last minute, since this boot: a receive worker that
 * outlived its primary (a kill -9 of the primary alone) settles its own segments as it stops;
 * removing them under it would leave what it acknowledges meanwhile in no journal. An older
 * segment, one written before the boot, or one whose pid is gone (or a zombie) is replayed. A
 * segment left alone stays on disk and is replayed by a later start.
 */
async function inUse(name: string, path: string): Promise<boolean> {
  const pid = Number(name.slice(0, name.indexOf('.')));
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !running(pid)) return false;
  const st = await fsp.stat(path).catch(() => undefined);
  // Written before this boot: whatever runs under that pid now is another process.
  return st !== undefined && st.mtimeMs > bootTimeMs() && Date.now() - st.mtimeMs < LIVE_SEGMENT_MS;
}

/** True when `pid` is a process that runs (a zombie, dead but not yet reaped, does not). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: what kill(pid, 0) said
  }
}

/** When this machine booted (ms since the epoch; 0 when /proc/stat does not say). */
function bootTimeMs(): number {
  try {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'latin1'));
    return m ? Number(m[1]) * 1000 : 0;
  } catch {
    return 0;
  }
}

async function sameBytes(path: string, want: Buffer): Promise<boolean> {
  try {
    return (await fsp.readFile(path)).equals(want);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function writeDurably(path: string, bytes: Buffer): Promise<void> {
  const handle = await fsp.open(path, 'w', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
