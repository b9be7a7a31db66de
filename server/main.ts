/**
 * The composition root: configuration → store → (hooks → listeners → admin, as they are built).
 * This is the only module that picks a store engine; everything else sees the `Store` contract.
 */
import fs from 'node:fs';
import type { Config } from './config/schema.ts';
import { createLogger, type Logger } from './log.ts';
import type { Store } from './store/types.ts';
import { openSqliteStore } from './store/sqlite/index.ts';
import { VERSION } from './version.ts';

/** The data directory holds keys and tokens: owner-only. */
export function ensureDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

export async function openStore(config: Config): Promise<Store> {
  switch (config.store.engine) {
    case 'sqlite':
      ensureDataDir(config.data_dir);
      return openSqliteStore(config.data_dir);
    case 'mongodb':
      throw new Error('the mongodb store engine is not available in this version; use store.engine: sqlite');
  }
}

export interface RunningServer {
  config: Config;
  logger: Logger;
  store: Store;
  stop(): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  const logger = createLogger(config.log_level);
  const store = await openStore(config);
  logger.info({ version: VERSION, dataDir: config.data_dir, store: store.engine }, 'mallard started');
  return {
    config,
    logger,
    store,
    async stop() {
      await store.close();
      logger.info('mallard stopped');
      logger.flush();
    },
  };
}
