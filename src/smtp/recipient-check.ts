/**
 * @module smtp/recipient-check
 * Recipient validation at RCPT TO for accepted domains that ask for it (`recipientValidation`),
 * as Exchange Online's Directory-Based Edge Blocking does: an address the organization does not
 * have is refused 550 5.4.1 before anything is accepted, so no bounce (backscatter) is ever made
 * for it. `list`: the domain's inline `recipients` and its `recipientsFile` (re-read when its
 * modification time or size changes, looked at most once a second). `verify`: the injected
 * next-hop probe (deliver/recipient-probe, cached there); in doubt 450 4.1.1, never an accept.
 * Touches: reads the recipients files.
 * RFCs: 5321 §3.3 (RCPT), 3463 (X.4.1 no answer from host / unknown, X.1.1 bad mailbox).
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { normalizeDomain, parseAddress } from '../core/address.ts';
import { acceptedDomainOf } from '../policy/index.ts';
import type { AcceptedDomain } from '../config/schema.ts';
import type { SmtpDeps } from './deps.ts';

export type RecipientCheck = 'ok' | 'recipient-unknown' | 'recipient-unverified';

/** One recipients file, re-read on change. */
interface ListFile {
  key: string;
  checkedAt: number;
  addresses: ReadonlySet<string>;
}

const files = new Map<string, ListFile>();
const RECHECK_MS = 1000;

/** The lower-cased addresses of a recipients file (one per line; blank lines and # comments skipped). */
export function parseRecipientsFile(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, '').trim().toLowerCase();
    if (line) out.add(line);
  }
  return out;
}

/** The addresses of `path`, re-read when its mtime or size changed; a missing file is an error. */
function fileAddresses(path: string, now: number): ReadonlySet<string> {
  const known = files.get(path);
  if (known && now - known.checkedAt < RECHECK_MS) return known.addresses;
  const st = statSync(path);
  const key = `${st.mtimeMs}:${st.size}:${st.ino}`;
  if (known && known.key === key) {
    known.checkedAt = now;
    return known.addresses;
  }
  const addresses = parseRecipientsFile(readFileSync(path, 'utf8'));
  files.set(path, { key, checkedAt: now, addresses });
  return addresses;
}

/** The configured accepted domain covering `domain` (with its validation settings). */
function domainEntry(deps: SmtpDeps, domain: string): AcceptedDomain | undefined {
  const snap = deps.snapshot();
  const compiled = acceptedDomainOf(domain, snap.policy);
  if (!compiled) return undefined;
  return snap.config.acceptedDomains.find((d) => normalizeDomain(d.domainName) === compiled.domainName);
}

/** Whether `rcpt` is on the domain's list (inline or file). Throws when the file cannot be read. */
function onList(deps: SmtpDeps, entry: AcceptedDomain, rcpt: string, dataDir: string): boolean {
  const addr = rcpt.toLowerCase();
  if (entry.recipients?.some((r) => r.toLowerCase() === addr)) return true;
  if (!entry.recipientsFile) return false;
  const path = isAbsolute(entry.recipientsFile) ? entry.recipientsFile : join(dataDir, entry.recipientsFile);
  return fileAddresses(path, deps.now()).has(addr);
}

/** Validate one recipient; 'ok' for domains without validation (and for recipients outside accepted domains). */
export async function checkRecipient(deps: SmtpDeps, rcpt: string): Promise<RecipientCheck> {
  const parsed = parseAddress(rcpt);
  if (parsed.invalid) return 'ok'; // policy has already answered for what it could not parse
  const entry = domainEntry(deps, parsed.domain);
  const mode = entry?.recipientValidation ?? 'none';
  if (!entry || mode === 'none') return 'ok';
  if (mode === 'list') {
    try {
      return onList(deps, entry, rcpt, deps.dataDir ?? '.') ? 'ok' : 'recipient-unknown';
    } catch (err) {
      deps.logger.error({ err, domain: entry.domainName }, 'recipients file unreadable');
      return 'recipient-unverified'; // fail closed, but temporarily
    }
  }
  if (!deps.verifyRecipient) return 'recipient-unverified';
  const answer = await deps.verifyRecipient(rcpt, { positive: entry.verifyPositiveTtlSeconds ?? 86_400, negative: entry.verifyNegativeTtlSeconds ?? 3600 });
  if (answer === 'exists') return 'ok';
  return answer === 'unknown' ? 'recipient-unknown' : 'recipient-unverified';
}
