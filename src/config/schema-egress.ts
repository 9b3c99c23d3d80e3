/**
 * @module config/schema-egress
 * The egress policy of the zod model (the firewall rules `mailgate egress render` writes: internal
 * ranges, relay hosts, named exceptions, blocked ports), and the IP/CIDR setting type the rest of
 * the model shares (split from schema.ts, which includes them; same names and defaults).
 * Touches: nothing.
 */
import { z } from 'zod';
import { parseCidr } from '../core/cidr.ts';

/** An IP or CIDR, checked here so a bad one is reported with every other schema issue. */
export const ipOrCidr = z.string().superRefine((s, ctx) => {
  try {
    parseCidr(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

/** A name that is safe as a firewall object name in every rendered format. */
const egressName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'letters, digits, "_", "." and "-" (at most 40, starting with a letter or digit)');
/** Free text rendered into firewall comments: one line, no control characters. */
const egressComment = z.string().max(200).regex(/^[^\u0000-\u001f\u007f\u0085\u2028\u2029]*$/, 'one line of text without control characters');
/** A firewall interface or zone name. */
const egressInterface = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_./:-]{0,30}$/, 'an interface or zone name (letters, digits, "_", ".", "/", ":" and "-")');

export const egressExceptionSchema = z
  .object({
    name: egressName.describe('Exception name (becomes part of the firewall object names).'),
    addresses: z.array(ipOrCidr).min(1).describe('Source IPs or CIDRs (IPv4 and IPv6) that may still reach the blocked ports.'),
    comment: egressComment.default('').describe('Why the exception exists (rendered as a comment next to it).'),
    expires: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
      .optional()
      .describe('Last day (UTC, YYYY-MM-DD) the exception is rendered; after it the exception is left out with a note.'),
  })
  .strict();

export const egressSchema = z
  .object({
    internalRanges: z
      .array(ipOrCidr)
      .default(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'])
      .describe('Internal source ranges (IPv4 and IPv6) whose outbound SMTP is blocked; traffic to these ranges is not touched.'),
    relayAddresses: z.array(ipOrCidr).default([]).describe("mailgate's own hosts: the only sources that may reach outbound blocked ports (besides exceptions)."),
    exceptions: z.array(egressExceptionSchema).default([]).describe('Named exceptions with a comment and an optional expiry.'),
    blockedPorts: z
      .array(z.number().int().min(1).max(65535))
      .min(1)
      .default([25, 465, 587])
      .describe('Outbound TCP ports blocked (SMTP 25, submissions 465, submission 587; add 2525 if you like).'),
    log: z.boolean().default(true).describe('Log blocked attempts (where the firewall can).'),
    action: z.enum(['reject', 'drop']).default('reject').describe('reject: answer with a TCP reset (the device fails fast); drop: discard silently.'),
    insideInterface: egressInterface.default('inside').describe('Inside interface or zone (ASA nameif, FortiGate srcintf, PAN-OS from-zone).'),
    outsideInterface: egressInterface.default('outside').describe('Outside interface or zone (FortiGate dstintf, PAN-OS to-zone).'),
  })
  .strict();
