/**
 * @module test/golden/snapshot
 * Test helper: builds a PolicySnapshot from a plain config object (the YAML shape) through the real
 * configSchema and compilePolicy, so policy tests exercise the same compiled matchers as the gateway.
 * Touches: nothing.
 */
import { compilePolicy } from '../../src/config/compile.ts';
import { configSchema } from '../../src/config/schema.ts';
import type { PolicyInput, PolicySnapshot } from '../../src/policy/types.ts';

/** A minimal listener so configs can omit receiveConnectors. */
const DEFAULT_LISTENERS = [{ name: 'mx', port: 25 }];

/** Parse and compile a config object; receiveConnectors default to one 'mx' listener. */
export function snapshotOf(config: Record<string, unknown>, version = 1): PolicySnapshot {
  const withListeners = 'receiveConnectors' in config ? config : { ...config, receiveConnectors: DEFAULT_LISTENERS };
  return compilePolicy(configSchema.parse(withListeners), version);
}

/** Facts with defaults: listener 'mx', client 203.0.113.9, no TLS. */
export function factsOf(partial: Partial<PolicyInput>): PolicyInput {
  return { listener: 'mx', clientIp: '203.0.113.9', tls: false, ...partial };
}
