/**
 * @module test/docs/settings.test
 * docs/settings.md is generated from the zod schema by scripts/gen-settings.ts; this fails when the
 * committed file differs from what the generator produces now (a setting added, renamed, re-described
 * or given a new default without regenerating the docs).
 * Touches: reads docs/settings.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderSettings, SETTINGS_MD } from '../../scripts/gen-settings.ts';
import { configSchema } from '../../src/config/schema.ts';

test('docs/settings.md is what scripts/gen-settings.ts generates', () => {
  const expected = renderSettings();
  let actual = '';
  try {
    actual = readFileSync(SETTINGS_MD, 'utf8');
  } catch {
    // reported below
  }
  assert.ok(actual === expected, 'docs/settings.md is out of date: run `node --import tsx scripts/gen-settings.ts` and commit the result');
});

test('every top-level section and every organization setting is documented', () => {
  const text = renderSettings();
  for (const key of Object.keys(configSchema.shape)) assert.match(text, new RegExp('## `' + key + '(\\[\\])?[`.]'), `section ${key}`);
  for (const key of Object.keys(configSchema.shape.organization.def.innerType.shape)) assert.ok(text.includes('`organization.' + key + '`'), key);
});

test('every documented setting has a description', () => {
  for (const line of renderSettings().split('\n')) {
    if (!line.startsWith('| `') || line.startsWith('| Path')) continue;
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.length === 6) assert.notEqual(cells[4], '', `no description: ${line}`);
  }
});
