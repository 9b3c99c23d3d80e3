/**
 * @module queue/spool-copy
 * A consistent copy of a live spool (`mailgate backup`), taken while the gateway writes it, with
 * no lock: the commit journal's segments first, then every message file of msg/, each copy checked
 * against its end record and CRC-32 like recovery checks a file (spool-format.ts). A file being
 * written or reused while it was read fails the check and is dropped from the copy: either it was
 * not acknowledged yet, or it was acknowledged through the journal (already copied, and replayed
 * into msg/ when the copy is started), or it was delivered and its row says so. free/, tmp/ and
 * aside/ are not copied (never messages to deliver).
 * Touches: reads the source spool; creates the destination spool directory and its files.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { parseSegment } from './journal-format.ts';
import { SPOOL_NAME, SpoolCorruptError } from './spool-format.ts';
import { Spool } from './spool.ts';

/** What copySpool() copied. */
export interface SpoolCopyReport {
  /** Message files copied whole. */
  messages: number;
  /** Journal segments copied. */
  journalSegments: number;
  /** Message files dropped from the copy (changing while read). */
  skipped: number;
  /** Every queue id the copy can deliver: copied files and the journal's records. */
  ids: Set<string>;
}

const gone = (e: unknown): boolean => (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

async function names(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (e) {
    if (gone(e)) return [];
    throw e;
  }
}

/** Copy the spool at `src` into `dst` (created; must not hold a spool). */
export async function copySpool(src: string, dst: string): Promise<SpoolCopyReport> {
  const copy = new Spool(dst, { journal: false, reuseFiles: false });
  await copy.init();
  const report: SpoolCopyReport = { messages: 0, journalSegments: 0, skipped: 0, ids: new Set() };
  // Journal before msg/: a segment is emptied only once its files are in msg/, so every
  // acknowledged message is in one of the two copies.
  for (const name of await names(join(src, 'journal'))) {
    const to = join(copy.journalDir, name);
    try {
      await fsp.copyFile(join(src, 'journal', name), to);
    } catch (e) {
      if (gone(e)) continue;
      throw e;
    }
    for (const r of parseSegment(await fsp.readFile(to))) report.ids.add(r.id);
    report.journalSegments++;
  }
  for (const id of await names(join(src, 'msg'))) {
    if (!SPOOL_NAME.test(id)) continue;
    try {
      await fsp.copyFile(join(src, 'msg', id), copy.msgPath(id));
    } catch (e) {
      if (gone(e)) continue;
      throw e;
    }
    try {
      await copy.verifyBody(await copy.readMeta(id));
      report.ids.add(id);
      report.messages++;
    } catch (e) {
      if (!(e instanceof SpoolCorruptError)) throw e;
      await fsp.rm(copy.msgPath(id), { force: true });
      report.skipped++;
    }
  }
  return report;
}
