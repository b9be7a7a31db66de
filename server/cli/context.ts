/**
 * What every store-backed subcommand needs: the loaded configuration, an open store, and output
 * that is one line per item or JSON.
 */
import { loadConfigLazily } from '../config/quick-check.ts';
import type { Config } from '../config/schema.ts';
import { openStore } from '../main.ts';
import type { Store, User } from '../store/types.ts';
import { findServer, type AdminClient } from './admin-client.ts';
import { apiBackend } from './backends/api.ts';
import { storeBackend } from './backends/store.ts';
import type { Backend } from './backends/types.ts';
import { CliError, EXIT } from './cli-error.ts';

export interface CliContext {
  config: Config;
  store: Store;
}

export async function withStore<T>(
  configFile: string | undefined,
  run: (context: CliContext) => Promise<T>,
): Promise<T> {
  const config = await loadConfigLazily({ file: configFile });
  const store = await openStore(config);
  try {
    return await run({ config, store });
  } finally {
    await store.close();
  }
}

export interface BackendContext {
  config: Config;
  backend: Backend;
}

/**
 * Runs a management command against the running server's admin API when one answers for this
 * configuration, else against the store opened here (`--offline` forces that).
 */
export async function withBackend<T>(
  configFile: string | undefined,
  run: (context: BackendContext) => Promise<T>,
): Promise<T> {
  const config = await loadConfigLazily({ file: configFile });
  const api = await findServer(config);
  if (api) return run({ config, backend: apiBackend(api) });
  const store = await openStore(config);
  try {
    return await run({ config, backend: storeBackend(store, config) });
  } finally {
    await store.close();
  }
}

/** The running server's admin API, or a 75 saying none runs (for what only a server knows). */
export async function withServer<T>(
  configFile: string | undefined,
  run: (api: AdminClient, config: Config) => Promise<T>,
): Promise<T> {
  const config = await loadConfigLazily({ file: configFile });
  const api = await findServer(config);
  if (!api) {
    throw new CliError(
      `no server is running for ${config.data_dir} (none answered on the admin API at ` +
        `${config.admin.host}:${config.admin.port}); start one with \`mallard serve\``,
      EXIT.tempFail,
    );
  }
  return run(api, config);
}

export async function requireUser(store: Store, username: string): Promise<User> {
  const user = await store.getUserByUsername(username);
  if (!user) throw new CliError(`no such user: ${username}`, EXIT.noUser);
  return user;
}

/** Prints items as JSON, or one tab-separated line each, beginning with the item's key. */
export function printList<T>(items: T[], json: boolean | undefined, line: (item: T) => unknown[]): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    return;
  }
  for (const item of items) process.stdout.write(`${line(item).join('\t')}\n`);
}

export function printObject(
  value: unknown,
  json: boolean | undefined,
  lines: Array<[string, unknown]>,
): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  for (const [label, text] of lines) process.stdout.write(`${label}: ${String(text)}\n`);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Quotas are given as bytes or with a unit: 500M, 2G, 0 for unlimited. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (!match) throw new CliError(`not a size: ${text} (use bytes or a unit, e.g. 500M, 2G)`, EXIT.usage);
  const power = ' kmgt'.indexOf((match[2] || ' ').toLowerCase());
  return Math.round(Number(match[1]) * 1024 ** power);
}
