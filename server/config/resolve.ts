/**
 * Everything about loading the configuration that needs no zod: defaults, then the YAML file
 * (`--config FILE` or MALLARD_CONFIG, else `<data_dir>/mallard.yaml` when it exists: where the
 * panel's Settings page writes), then environment variables, merged into one tree with the source
 * of every value. Validation comes after: load.ts (zod, the source of truth) and quick-check.ts (a
 * hand-written check for plainly valid values, so a one-shot command such as `mallard deliver`
 * need not load zod at all). Kept apart so that importing this module never loads zod.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { configDefaults, defaultDataDir } from './defaults.ts';
import type { Config } from './schema.ts';

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

export type Tree = { [key: string]: unknown };

export function isTree(value: unknown): value is Tree {
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
function mergeFile(target: Tree, source: Tree, prefix: string[], file: string, resolved: Resolved): void {
  for (const [key, value] of Object.entries(source)) {
    const keyPath = [...prefix, key];
    const current = target[key];
    if (current === undefined) {
      resolved.problems.push(`${keyPath.join('.')}: unknown key (in ${file})`);
    } else if (isTree(current)) {
      if (isTree(value)) mergeFile(current, value, keyPath, file, resolved);
      else
        resolved.problems.push(
          `${keyPath.join('.')}: got ${JSON.stringify(value)} (in ${file}), expected a section`,
        );
    } else {
      target[key] = value;
      resolved.sources.set(keyPath.join('.'), `in ${file}`);
    }
  }
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

/** The merged, not yet validated configuration, with where each value that is not a default came from. */
export interface Resolved {
  merged: Tree;
  file: string | undefined;
  sources: Map<string, string>;
  problems: string[];
}

/** Merges defaults, file and environment; throws ConfigError for keys the configuration has not. */
export function resolveConfig(options: LoadOptions = {}): Resolved {
  const env = options.env ?? process.env;
  const resolved: Resolved = {
    merged: configDefaults(),
    file: configFileFor(options, env),
    sources: new Map(),
    problems: [],
  };
  if (resolved.file) mergeFile(resolved.merged, readConfigFile(resolved.file), [], resolved.file, resolved);
  for (const keyPath of leafPaths(configDefaults())) {
    const name = envName(keyPath);
    const text = env[name];
    if (text === undefined) continue;
    setAt(resolved.merged, keyPath, coerceEnvValue(text, getAt(resolved.merged, keyPath)));
    resolved.sources.set(keyPath.join('.'), `from ${name}`);
  }
  if (resolved.problems.length > 0) throw new ConfigError(resolved.problems);
  return resolved;
}

/** A validated configuration, remembered with the file it came from. */
export function accepted(resolved: Resolved, config: Config): Config {
  if (resolved.file) fileOfConfig.set(config, path.resolve(resolved.file));
  return config;
}

/** The ConfigError for what validation refused: each key with its value, source and expectation. */
export function refused(
  resolved: Resolved,
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): ConfigError {
  return new ConfigError(
    issues.map((issue) => {
      const key = issue.path.join('.');
      const value = getAt(resolved.merged, issue.path.map(String));
      const source = resolved.sources.get(key) ?? 'default';
      return `${key}: got ${JSON.stringify(value)} (${source}), expected ${issue.message}`;
    }),
  );
}
