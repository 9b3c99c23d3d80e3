/**
 * @module deliver/pickup
 * Delivers to a local pickup folder: one `<queueId>.eml` per message, written atomically
 * (`.<queueId>.eml.tmp` → fsync → rename → fsync dir) so a folder watcher never sees a partial file.
 *
 * A pickup folder has no envelope, so the file starts with `X-Mailgate-Envelope-From:` and one
 * `X-Mailgate-Envelope-To:` per recipient, followed by the message exactly as it leaves
 * (`request.openMessage()`: prependHeaders + stored message). This mirrors Postfix's
 * Return-Path / X-Original-To / Delivered-To, which record the envelope when local delivery drops it.
 * The folder is confined to the data dir (core/confine, refused at load by config/schema, checked again here so a
 * stored config from before the rule cannot write elsewhere): a relative pickupDir that leaves it
 * is refused, an absolute one needs `pickupOutsideDataDir`. Files are written with
 * `pickupFileMode` (default 0600; 0640 for a reader group), the folder created 0700 (0750 when the
 * files are group-readable).
 * Touches: the route's pickup folder only.
 * RFCs: 5322 §2.2 (header fields), 5321 §4.4 (trace information).
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { confinedDirProblem } from '../core/confine.ts';
import type { Route } from '../config/schema.ts';
import type { DeliveryRequest, RecipientOutcome } from '../queue/contract.ts';

/** Strip anything that could end a header line (envelope addresses never contain CR/LF, but be sure). */
function headerSafe(value: string): string {
  return value.replace(/[\r\n]/g, '');
}

/** The envelope header block put in front of the message in a pickup file. */
export function envelopeHeaders(mailFrom: string, recipients: readonly string[]): string {
  let out = `X-Mailgate-Envelope-From: <${headerSafe(mailFrom)}>\r\n`;
  for (const rcpt of recipients) out += `X-Mailgate-Envelope-To: <${headerSafe(rcpt)}>\r\n`;
  return out;
}

/** The absolute pickup folder of a route (relative to the data dir); throws when it is not allowed. */
export function pickupFolder(route: Route, dataDir: string): string {
  const problem = confinedDirProblem(route.pickupDir, route.pickupOutsideDataDir === true, 'pickupOutsideDataDir');
  if (problem) throw new Error(`route ${route.name}: pickupDir ${problem}`);
  return resolve(dataDir, route.pickupDir);
}

/** The mode of a route's pickup files (pickupFileMode, default 0600). */
export function pickupFileMode(route: Route): number {
  return route.pickupFileMode === undefined ? 0o600 : parseInt(route.pickupFileMode, 8);
}

/** Write header + message stream to `tmp`, fsync it, then close. */
async function writeSynced(tmp: string, header: string, message: Readable, mode: number): Promise<void> {
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.chmod(mode); // the umask may have narrowed it (a reader group needs exactly this mode)
    await fh.write(header);
    for await (const chunk of message) {
      await fh.write(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a directory so a rename in it is durable. */
async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** Write the message file atomically; returns its final path. */
export async function writePickupFile(dir: string, req: DeliveryRequest, recipients: readonly string[], mode = 0o600): Promise<string> {
  await mkdir(dir, { recursive: true, mode: mode & 0o040 ? 0o750 : 0o700 });
  const final = join(dir, `${req.queueId}.eml`);
  const tmp = join(dir, `.${req.queueId}.eml.tmp`);
  const message = req.openMessage();
  try {
    await writeSynced(tmp, envelopeHeaders(req.mailFrom, recipients), message, mode);
    await rename(tmp, final);
  } catch (err) {
    message.destroy();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
  return final;
}

/** Deliver `recipients` of `req` to the route's pickup folder; never throws (I/O error → deferred). */
export async function deliverPickup(route: Route, dataDir: string, req: DeliveryRequest, recipients: readonly string[]): Promise<RecipientOutcome[]> {
  try {
    const path = await writePickupFile(pickupFolder(route, dataDir), req, recipients, pickupFileMode(route));
    return recipients.map((rcpt) => ({ rcpt, status: 'delivered', enhanced: '2.0.0', reply: `written to ${path}`, nextHop: `pickup:${path}` }));
  } catch (err) {
    const reply = `pickup write failed: ${err instanceof Error ? err.message : String(err)}`;
    return recipients.map((rcpt) => ({ rcpt, status: 'deferred', enhanced: '4.3.0', reply }));
  }
}
