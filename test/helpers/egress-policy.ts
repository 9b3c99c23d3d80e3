/**
 * @module test/helpers/egress-policy
 * The golden egress policy (test/golden/egress/policy.yaml: the policy, its configuration version
 * and the day expiry is evaluated on), parsed through the real schema, for the egress tests.
 * Touches: reads test/golden/egress/policy.yaml.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { egressSchema, type Egress } from '../../src/config/schema.ts';

export const GOLDEN_EGRESS_DIR = join(import.meta.dirname, '..', 'golden', 'egress');

export function goldenPolicy(): { egress: Egress; version: number; asOf: string } {
  const doc = parse(readFileSync(join(GOLDEN_EGRESS_DIR, 'policy.yaml'), 'utf8')) as { version: number; asOf: string; egress: unknown };
  return { egress: egressSchema.parse(doc.egress), version: doc.version, asOf: doc.asOf };
}
