/**
 * @module smtp/from-fields
 * Turns the From header fields the data guard collected into the flat facts policy judges at end
 * of DATA: how many From fields, every mailbox address in them (groups flattened), and whether
 * group syntax was used. Parsed with nodemailer's addressparser, the parser mailauth uses for the
 * DMARC header From, so policy sees the addresses DMARC saw.
 * Touches: nothing. RFCs: 5322 §3.4 (address, group), §3.6.2 (From).
 */
import addressparser from 'nodemailer/lib/addressparser';
import type { PolicyInput } from '../policy/types.ts';

export type FromFacts = Pick<PolicyInput, 'headerFromFields' | 'headerFromAddresses' | 'headerFromGroup'>;

/** The From facts of the values of a message's From fields (in order). */
export function fromFacts(values: readonly string[]): FromFacts {
  const addresses: string[] = [];
  let group = false;
  for (const v of values) {
    for (const entry of addressparser(v)) {
      if ('group' in entry) {
        group = true;
        for (const m of entry.group ?? []) if (m.address) addresses.push(m.address);
      } else if (entry.address) {
        addresses.push(entry.address);
      }
    }
  }
  return { headerFromFields: values.length, headerFromAddresses: addresses, headerFromGroup: group };
}
