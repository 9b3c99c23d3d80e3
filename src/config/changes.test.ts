/**
 * @module config/changes.test
 * The one-line summary of what a version changed, and the masked YAML diff: secrets never
 * appear, a changed secret still shows as a change.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineDiff, loadExampleConfig, maskedYaml, summarizeChange } from './index.ts';

const HASH_A = 'scrypt$16384$8$1$c2FsdA$aGFzaGhhc2hoYXNo';
const HASH_B = 'scrypt$16384$8$1$c2FsdA$b3RoZXJoYXNoaGFzaA';

test('summary names settings, added, removed and changed items, list entries; never a secret', () => {
  const a = loadExampleConfig();
  a.users.push({ name: 'app@example.com', passwordHash: HASH_A, sendAs: [] });
  const b = structuredClone(a);
  b.organization.rejectDirectSend = true;
  b.routes.push({ name: 'exo', domains: ['contoso.com'], type: 'smtp', host: 'h', port: 25, tls: 'required', pickupDir: 'pickup' });
  b.receiveConnectors = b.receiveConnectors.filter((l) => l.name !== 'submission');
  b.users[0]!.passwordHash = HASH_B;
  b.lists.block.ips.push('192.0.2.1');
  const s = summarizeChange(a, b);
  assert.equal(s, 'organization.rejectDirectSend false→true; -listener submission; +route exo; ~user app@example.com (passwordHash); +block 192.0.2.1');
  assert.equal(summarizeChange(undefined, a), 'initial configuration');
  assert.equal(summarizeChange(a, structuredClone(a)), 'no change');
});

test('the masked diff shows a changed password hash as a changed fingerprint, never the hash', () => {
  const a = loadExampleConfig();
  a.users.push({ name: 'app@example.com', passwordHash: HASH_A, sendAs: [] });
  const b = structuredClone(a);
  b.users[0]!.passwordHash = HASH_B;
  const d = lineDiff(maskedYaml(a), maskedYaml(b), 'v1', 'v2');
  assert.match(d, /^--- v1\n\+\+\+ v2\n@@ -\d+,\d+ \+\d+,\d+ @@\n/);
  assert.match(d, /^-    passwordHash: <masked [0-9a-f]{8}>\n\+    passwordHash: <masked [0-9a-f]{8}>$/m);
  assert.doesNotMatch(d, /scrypt/);
  assert.equal(lineDiff('x\n', 'x\n', 'a', 'b'), '');
});
