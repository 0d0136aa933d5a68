export { type Config } from './schema.js';
export { ConfigError, type LoadedConfig, type LoadOptions, describeSchema, loadConfig, HOST_CONFIG, LOCAL_CONFIG } from './load.js';
