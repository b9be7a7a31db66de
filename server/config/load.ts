/**
 * Loads and validates the configuration with zod (the schema in schema.ts is the source of truth).
 * Merging defaults, file and environment is resolve.ts; a command that starts for one job and
 * exits (`mallard deliver`) uses loadConfigLazily() from quick-check.ts, which loads this module
 * only when the configuration is not plainly valid.
 */
import { accepted, refused, resolveConfig, type LoadOptions, type Resolved } from './resolve.ts';
import { configSchema, type Config } from './schema.ts';

export {
  ConfigError,
  configFileOf,
  DEFAULT_CONFIG_NAME,
  defaultConfigFile,
  envName,
  leafPaths,
  type LoadOptions,
} from './resolve.ts';

/** Validates merged values with the schema: the configuration, or a ConfigError naming each problem. */
export function validateResolved(resolved: Resolved): Config {
  const result = configSchema.safeParse(resolved.merged);
  if (result.success) return accepted(resolved, result.data);
  throw refused(resolved, result.error.issues);
}

export function loadConfig(options: LoadOptions = {}): Config {
  return validateResolved(resolveConfig(options));
}
