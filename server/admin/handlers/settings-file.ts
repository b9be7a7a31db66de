/**
 * Writes settings changes into the configuration file in place, with the `yaml` Document API so
 * that the comments, order and layout a person gave the file survive. The result is loaded (with
 * the server's environment) before the file is touched: a change the next start would refuse is
 * refused now, with the same words.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Document, isMap, parseDocument } from 'yaml';
import { ConfigError, configFileOf, defaultConfigFile, envName, loadConfig } from '../../config/load.ts';
import type { Config } from '../../config/schema.ts';
import { ApiError } from '../errors.ts';

type Tree = { [key: string]: unknown };

/** Leaf paths and values of a (partial) settings object: { imap: { port: 1 } } → [[imap, port], 1]. */
function leaves(tree: Tree, prefix: string[] = []): Array<[string[], unknown]> {
  return Object.entries(tree).flatMap(([key, value]): Array<[string[], unknown]> =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? leaves(value as Tree, [...prefix, key])
      : value === undefined
        ? []
        : [[[...prefix, key], value]],
  );
}

/** The file the settings live in: the one the server was started with, else <data_dir>/mallard.yaml. */
export function settingsFile(config: Config): string {
  return configFileOf(config) ?? defaultConfigFile(config.data_dir);
}

function readDocument(file: string): Document {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Document({});
    throw new ApiError('conflict', `cannot read the configuration file ${file}: ${(error as Error).message}`);
  }
  const parsed = parseDocument(text);
  if (parsed.errors.length > 0)
    throw new ApiError('conflict', `the configuration file ${file} is not valid YAML; fix it by hand first`);
  const document = parsed as unknown as Document;
  if (document.contents === null) document.contents = document.createNode({});
  if (!isMap(document.contents))
    throw new ApiError('conflict', `the configuration file ${file} does not hold a mapping of keys`);
  return document;
}

/** Two enabled listeners on one address and port cannot both start. */
function portClashes(config: Config): string[] {
  const taken = new Map<string, string>();
  const clashes: string[] = [];
  const listeners: Array<[string, boolean, string, number]> = [
    ['imap.port', config.imap.enabled, config.imap.host, config.imap.port],
    ['imap.tls_port', config.imap.enabled, config.imap.host, config.imap.tls_port],
    ['pop3.port', config.pop3.enabled, config.pop3.host, config.pop3.port],
    ['pop3.tls_port', config.pop3.enabled, config.pop3.host, config.pop3.tls_port],
    ['lmtp.port', config.lmtp.enabled, config.lmtp.host, config.lmtp.port],
    ['smtp.port', config.smtp.enabled, config.smtp.host, config.smtp.port],
    ['submission.port', config.submission.enabled, config.submission.host, config.submission.port],
    ['submission.tls_port', config.submission.enabled, config.submission.host, config.submission.tls_port],
    ['managesieve.port', config.managesieve.enabled, config.managesieve.host, config.managesieve.port],
    ['admin.port', true, config.admin.host, config.admin.port],
    ['panel.port', true, config.panel.host, config.panel.port],
    ['web.port', config.web.enabled, config.web.host, config.web.port],
  ];
  for (const [key, enabled, , port] of listeners) {
    if (!enabled || port === 0) continue;
    // Addresses differ rarely and 0.0.0.0 overlaps every other: compare ports alone.
    const other = taken.get(String(port));
    if (other) clashes.push(`${key}: port ${port} is already used by ${other}`);
    else taken.set(String(port), key);
  }
  return clashes;
}

export interface WrittenSettings {
  file: string;
  config: Config;
  warnings: string[];
}

export function writeSettings(current: Config, update: Tree): WrittenSettings {
  const file = settingsFile(current);
  const document = readDocument(file);
  const changes = leaves(update);
  for (const [keyPath, value] of changes) document.setIn(keyPath, value);
  const text = document.toString();

  // Loaded as the next start will load it, from a private scratch copy.
  const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-settings-'));
  const scratch = path.join(scratchDir, 'mallard.yaml');
  let next: Config;
  try {
    fs.writeFileSync(scratch, text, { mode: 0o600 });
    next = loadConfig({ file: scratch, env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      const issues = error.problems.map((problem) => ({
        path: `body.${problem.split(':')[0]}`,
        message: problem.replace(/ \(in [^)]*\)/, ''),
      }));
      throw new ApiError('validation_failed', issues[0]?.message ?? 'invalid settings', issues);
    }
    throw error;
  } finally {
    fs.rmSync(scratchDir, { recursive: true, force: true });
  }
  const problems = portClashes(next);
  if (next.store.engine === 'mongodb' && !next.store.mongodb.uri && !next.store.mongodb.local)
    problems.push('store.mongodb.uri: the mongodb engine needs a URI (mongodb://host/database)');
  if (problems.length > 0)
    throw new ApiError(
      'validation_failed',
      problems[0]!,
      problems.map((problem) => ({ path: `body.${problem.split(':')[0]}`, message: problem })),
    );

  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // In place (not a rename): the file keeps its owner, mode and any symlink, and a service whose
  // only writable path is this file can still save. New files are owner-only: a URI may hold a password.
  fs.writeFileSync(file, text, { mode: 0o600 });
  const warnings = changes
    .map(([keyPath]) => envName(keyPath))
    .filter((name) => process.env[name] !== undefined)
    .map((name) => `${name} is set in the server's environment and wins over the file`);
  return { file, config: next, warnings };
}
