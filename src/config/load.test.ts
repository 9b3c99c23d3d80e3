/**
 * @module config/load.test
 * YAML load and validation: every error names file, path and reason; defaults; example config;
 * export round trip.
 * Touches: nothing (reads mailgate.example.yaml).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ConfigErrors, configToYaml, defaultConfig, loadExampleConfig, parseConfigText, validateConfig } from './index.ts';

function errorsOf(text: string, file = 'mg.yaml'): string[] {
  try {
    parseConfigText(text, file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, 'a ConfigError');
    assert.ok(e instanceof ConfigErrors, 'the aggregate');
    return e.errors.map((x) => x.message);
  }
  assert.fail('expected a ConfigError');
}

test('bad CIDR in inboundConnectors[1] names file and path', () => {
  const lines = errorsOf('inboundConnectors:\n  - name: a\n    senderIPAddresses: [192.0.2.1]\n  - name: b\n    senderIPAddresses: [10.0.0.0/33]\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /^mg\.yaml: inboundConnectors\[1\]\.senderIPAddresses\[0\]: .*10\.0\.0\.0\/33/);
});

test('missing port, unknown key and wrong type are all reported at once', () => {
  const lines = errorsOf('receiveConnectors:\n  - name: mx\n    colour: red\norganization:\n  rejectDirectSend: maybe\n');
  assert.ok(lines.includes('mg.yaml: receiveConnectors[0].port: required (expected number)'), lines.join('\n'));
  assert.ok(lines.includes('mg.yaml: receiveConnectors[0].colour: unknown setting'), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('mg.yaml: organization.rejectDirectSend: ')), lines.join('\n'));
  assert.equal(lines.length, 3);
});

test('YAML syntax error has line and column', () => {
  const lines = errorsOf('organization:\n  name: x\n  hostname: [unclosed\n');
  assert.match(lines[0] ?? '', /^mg\.yaml: line \d+, column \d+: YAML syntax error: /);
});

test('duplicate connector name (case-insensitive) names the second one', () => {
  const lines = errorsOf('inboundConnectors:\n  - name: Fabrikam\n  - name: fabrikam\n');
  assert.deepEqual(lines, ['mg.yaml: inboundConnectors[1].name: duplicate name "fabrikam"']);
});

test('matchSubDomains without InternalRelay is refused', () => {
  const lines = errorsOf('acceptedDomains:\n  - domainName: contoso.com\n    matchSubDomains: true\n');
  assert.match(lines[0] ?? '', /^mg\.yaml: acceptedDomains\[0\]\.matchSubDomains: .*InternalRelay/);
});

test('restrictDomainsToCertificate without a certificate name is refused', () => {
  const lines = errorsOf('inboundConnectors:\n  - name: a\n    restrictDomainsToCertificate: true\n');
  assert.match(lines[0] ?? '', /inboundConnectors\[0\]\.tlsSenderCertificateName: /);
});

test('empty text gives the defaults; validateConfig works on objects', () => {
  assert.deepEqual(parseConfigText(''), defaultConfig());
  const c = validateConfig({ organization: { rejectDirectSend: true } });
  assert.equal(c.organization.rejectDirectSend, true);
  assert.equal(c.organization.name, 'example.com');
  assert.throws(() => validateConfig({ routes: [{ name: 'r', type: 'smtp' }] }), /routes\[0\]\.host: an smtp route needs host/);
});

test('the example config loads and has the documented shape', () => {
  const c = loadExampleConfig();
  assert.equal(c.organization.rejectDirectSend, false);
  assert.deepEqual(c.acceptedDomains, [{ domainName: 'example.com', domainType: 'Authoritative', matchSubDomains: false }]);
  assert.deepEqual(
    c.receiveConnectors.map((r) => [r.name, r.bind, r.port, r.role, r.tls.mode]),
    [
      ['mx', '127.0.0.1', 2525, 'mx', 'starttls'],
      ['submission', '127.0.0.1', 2587, 'submission', 'starttls'],
    ],
  );
  assert.equal(c.receiveConnectors[0]?.tls.requestClientCert, true);
  assert.equal(c.receiveConnectors[1]?.requireAuth, true);
  assert.deepEqual(c.inboundConnectors, []);
  assert.deepEqual(c.routes.map((r) => [r.name, r.domains, r.type, r.pickupDir]), [['default', ['*'], 'pickup', 'pickup']]);
});

test('configToYaml round-trips and is stable whatever the key order', () => {
  const c = loadExampleConfig();
  const yaml = configToYaml(c);
  assert.deepEqual(parseConfigText(yaml), c);
  const shuffled = structuredClone(c);
  shuffled.inboundConnectors.push({ comment: '', enabled: true, name: 'x', connectorType: 'Partner', senderIPAddresses: [], senderDomains: ['*'], requireTls: false, restrictDomainsToIPAddresses: false, restrictDomainsToCertificate: false });
  const ordered = structuredClone(c);
  ordered.inboundConnectors.push({ name: 'x', connectorType: 'Partner', senderIPAddresses: [], senderDomains: ['*'], requireTls: false, restrictDomainsToIPAddresses: false, restrictDomainsToCertificate: false, enabled: true, comment: '' });
  assert.equal(configToYaml(shuffled), configToYaml(ordered));
  assert.match(configToYaml(ordered), /senderDomains: \['\*'\]/);
});

test('parsed configs never share zod default objects', () => {
  const a = defaultConfig();
  a.lists.block.ips.push('192.0.2.1');
  Object.freeze(a.organization);
  assert.deepEqual(defaultConfig().lists.block.ips, []);
  assert.equal(Object.isFrozen(parseConfigText('').organization), false);
});

test('a YAML alias bomb (billion laughs) is refused with one line, as at load', () => {
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (const [i, n] of ['b', 'c', 'd', 'e', 'f', 'g', 'h'].entries()) {
    const prev = String.fromCharCode(97 + i);
    levels.push(`${n}: &${n} [${Array(9).fill('*' + prev).join(', ')}]`);
  }
  const lines = errorsOf(levels.join('\n') + '\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /^mg\.yaml: YAML: refused: Excessive alias count/);
});
