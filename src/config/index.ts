/**
 * @module config
 * Public surface of config/: the schema and its types, YAML load/validate/export, compile to a
 * PolicySnapshot, the versioned store, the change watch, password hashes, and the defaults diff.
 * Touches: see the modules re-exported here.
 */
export * from './schema.ts';
export { compilePolicy, ConfigError } from './compile.ts';
export {
  ConfigErrors,
  configErrorLines,
  configToYaml,
  defaultConfig,
  exampleConfigText,
  exampleConfigUrl,
  formatPath,
  loadExampleConfig,
  parseConfigText,
  toReadableYaml,
  validateConfig,
} from './load.ts';
export { StoreUnavailableError, storedVersion, storedYaml, updatedYaml, type ConfigListen, type ConfigListenHandlers, type ConfigStore, type ConfigVersion, type ConfigVersionInfo } from './store.ts';
export { defaultNodeName, HEARTBEAT_MS, type FleetFacts, type Heartbeat, type NodeStatus, type NodeStore } from './nodes.ts';
export { watchConfig, loadSnapshot, snapshotOf, type ConfigSnapshot, type ConfigWatch, type WatchOptions } from './watch.ts';
export { hashPassword, verifyPassword, isPasswordHash, parsePasswordHash } from './passwords.ts';
export { changedSettings } from './diff.ts';
export { configWarnings } from './warnings.ts';
export { lineDiff, maskedYaml, summarizeChange } from './changes.ts';
export { bindsOverlap, completenessProblems, routePattern } from './overlap.ts';
export { keepMaskedSecrets, maskRoute, maskSecrets, SECRET_MASK } from './secrets.ts';
export { applyOverrides, configuredOverrides, type ListenOverride } from './node-listen.ts';
