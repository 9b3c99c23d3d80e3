/**
 * @module config/overlap.test
 * Route patterns and listener binds that collide are refused by validation, naming both; the
 * any-address rules of bindsOverlap; stored versions still load (they were valid when saved).
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindsOverlap, completenessProblems, configToYaml, defaultConfig, loadExampleConfig, parseConfigText, validateConfig } from './index.ts';

test('bindsOverlap: same address, 0.0.0.0 over IPv4, :: over everything; different addresses do not', () => {
  const cases: Array<[string, string, boolean]> = [
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['0.0.0.0', '192.0.2.1', true],
    ['0.0.0.0', '::1', false],
    ['::', '127.0.0.1', true],
    ['::', '::1', true],
    ['::1', '0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', '127.0.0.1', true],
    ['::1', '127.0.0.1', false],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(bindsOverlap(a, b), want, `${a} vs ${b}`);
    assert.equal(bindsOverlap(b, a), want, `${b} vs ${a}`);
  }
});

test('routes sharing a pattern (in any spelling) are refused naming both; distinct patterns are fine', () => {
  assert.throws(
    () => validateConfig({ routes: [{ name: 'a', domains: ['Contoso.COM.'] }, { name: 'b', domains: ['contoso.com'] }] }),
    /routes\[1\]\.domains\[0\]: routes "a" and "b" both serve "contoso\.com"/,
  );
  validateConfig({ routes: [{ name: 'a', domains: ['*'] }, { name: 'b', domains: ['contoso.com', '*.contoso.com'] }] });
});

test('listeners on one address and port are refused; port 0 never collides', () => {
  assert.throws(
    () => validateConfig({ receiveConnectors: [{ name: 'a', port: 25, bind: '::' }, { name: 'b', port: 25, bind: '127.0.0.1' }] }),
    /receiveConnectors\[1\]\.port: receive connectors "a" \(:::25\) and "b" \(127\.0\.0\.1:25\)/,
  );
  validateConfig({ receiveConnectors: [{ name: 'a', port: 0 }, { name: 'b', port: 0 }] });
  validateConfig({ receiveConnectors: [{ name: 'a', port: 25 }, { name: 'b', port: 587 }] });
});

test('a stored version with a newer rule broken still loads; completeness problems are named', () => {
  const cfg = loadExampleConfig();
  cfg.routes.push({ ...cfg.routes[0]!, name: 'second' });
  const yaml = configToYaml(cfg).replace(/\n$/, '');
  assert.throws(() => parseConfigText(yaml), /both serve/);
  assert.equal(parseConfigText(yaml, 'stored', { stored: true }).routes.length, 2);
  assert.equal(completenessProblems(defaultConfig()).length, 2);
  assert.deepEqual(completenessProblems(loadExampleConfig()), []);
});
