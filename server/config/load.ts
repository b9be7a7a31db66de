/**
 * Loads the configuration: defaults, then the YAML file (`--config FILE` or MALLARD_CONFIG, else
 * `<data_dir>/mallard.yaml` when it exists: where the panel's Settings page writes), then
 * environment variables, then validation. Every refusal names the key, the value and its source,
 * and what is expected.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { configDefaults, defaultDataDir } from './defaults.ts';
import { configSchema, type Config } from './schema.ts';

/**
 * The YAML parser, loaded when there is a file to parse: most starts of `mallard` (an MTA's
 * `mallard deliver` above all) have none, and the parser is a quarter of a megabyte of code.
 */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Tree = { [key: string]: unknown };

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The environment variable for a key path: `imap.tls_port` → `MALLARD_IMAP_TLS_PORT`. */
export function envName(keyPath: string[]): string {
  return `MALLARD_${keyPath.join('_').toUpperCase()}`;
}

/** Every leaf key path of the defaults, e.g. ["imap", "tls_port"]. */
export function leafPaths(tree: Tree, prefix: string[] = []): string[][] {
  return Object.entries(tree).flatMap(([key, value]) =>
    isTree(value) ? leafPaths(value, [...prefix, key]) : [[...prefix, key]],
  );
}

function getAt(tree: Tree, keyPath: string[]): unknown {
  let node: unknown = tree;
  for (const key of keyPath) node = isTree(node) ? node[key] : undefined;
  return node;
}

function setAt(tree: Tree, keyPath: string[], value: unknown): void {
  let node = tree;
  for (const key of keyPath.slice(0, -1)) {
    if (!isTree(node[key])) node[key] = {};
    node = node[key] as Tree;
  }
  node[keyPath[keyPath.length - 1]!] = value;
}

/** Environment values are text: turn them into the type of the key's default when they look like it. */
function coerceEnvValue(text: string, defaultValue: unknown): unknown {
  if (typeof defaultValue === 'number' && /^\s*-?\d+(\.\d+)?\s*$/.test(text)) return Number(text);
  if (typeof defaultValue === 'boolean' && /^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  return text;
}

/** Lays the file's values over the defaults, refusing keys the defaults do not have. */
function mergeFile(target: Tree, source: Tree, prefix: string[], file: string, loaded: Loaded): void {
  for (const [key, value] of Object.entries(source)) {
    const keyPath = [...prefix, key];
    const current = target[key];
    if (current === undefined) {
      loaded.problems.push(`${keyPath.join('.')}: unknown key (in ${file})`);
    } else if (isTree(current)) {
      if (isTree(value)) mergeFile(current, value, keyPath, file, loaded);
      else
        loaded.problems.push(
          `${keyPath.join('.')}: got ${JSON.stringify(value)} (in ${file}), expected a section`,
        );
    } else {
      target[key] = value;
      loaded.sources.set(keyPath.join('.'), `in ${file}`);
    }
  }
}

/** Where each key that is not a default came from, and what was refused on the way. */
interface Loaded {
  sources: Map<string, string>;
  problems: string[];
}

function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read config file ${file}: ${(error as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError([`config file ${file} is not valid YAML: ${(error as Error).message}`]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isTree(parsed)) throw new ConfigError([`config file ${file} must hold a mapping of keys`]);
  return parsed;
}

export interface LoadOptions {
  /** Config file path; falls back to MALLARD_CONFIG. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/** The file read when neither --config nor MALLARD_CONFIG names one (if it exists). */
export const DEFAULT_CONFIG_NAME = 'mallard.yaml';

export function defaultConfigFile(dataDir: string): string {
  return path.join(dataDir, DEFAULT_CONFIG_NAME);
}

/** The file each loaded configuration came from (the admin API writes settings back into it). */
const fileOfConfig = new WeakMap<Config, string>();

/** The configuration file a loadConfig() result was read from, if any. */
export function configFileOf(config: Config): string | undefined {
  return fileOfConfig.get(config);
}

function configFileFor(options: LoadOptions, env: NodeJS.ProcessEnv): string | undefined {
  const named = options.file ?? env.MALLARD_CONFIG;
  if (named) return named;
  const fallback = defaultConfigFile(env.MALLARD_DATA_DIR || defaultDataDir());
  return fs.existsSync(fallback) ? fallback : undefined;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const merged: Tree = configDefaults();
  const { sources, problems }: Loaded = { sources: new Map(), problems: [] };

  const file = configFileFor(options, env);
  if (file) mergeFile(merged, readConfigFile(file), [], file, { sources, problems });
  for (const keyPath of leafPaths(configDefaults())) {
    const name = envName(keyPath);
    const text = env[name];
    if (text === undefined) continue;
    setAt(merged, keyPath, coerceEnvValue(text, getAt(merged, keyPath)));
    sources.set(keyPath.join('.'), `from ${name}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const result = configSchema.safeParse(merged);
  if (result.success) {
    if (file) fileOfConfig.set(result.data, path.resolve(file));
    return result.data;
  }
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const key = issue.path.join('.');
      const value = getAt(merged, issue.path.map(String));
      const source = sources.get(key) ?? 'default';
      return `${key}: got ${JSON.stringify(value)} (${source}), expected ${issue.message}`;
    }),
  );
}
