/** The MongoDB store engine. */
export { MongoStore, openMongoStore, DEFAULT_DATABASE } from './store.ts';
export type { MongoStoreOptions, MongoStoreStats } from './store.ts';
export { SHARD_KEYS } from './shard-keys.ts';
export type { ShardKeySpec } from './shard-keys.ts';
