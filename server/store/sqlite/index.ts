/** The embedded (default) store engine. */
export { SqliteStore, openSqliteStore } from './store.ts';
export type { SqliteStoreOptions, SqliteStoreStats } from './store.ts';
export { DATABASE_FILE } from './database.ts';
export { ThreadedSqliteStore, openThreadedSqliteStore, DEFAULT_CALL_TIMEOUT_MS } from './thread.ts';
export type { ThreadedSqliteStoreOptions } from './thread.ts';
