/**
 * The recommended shard keys of the mongodb engine, for `mallard db shard` (which applies them on a
 * mongos) and the README. Only the collections that grow with the mail are sharded; the others
 * (users, addresses, app passwords, mailboxes, keywords, journal, rules, counters, recount marks) are
 * small and stay on the database's primary shard.
 *
 * Every query of the engine on a sharded collection carries the shard key's prefix, so it goes to
 * one shard: messages are always looked up by mailbox (and UID), blobs and their chunks by hash.
 * Each key is backed by an index the engine creates at start-up (a unique one where the key must
 * be unique), so the collections can be sharded while they already hold data.
 */
export interface ShardKeySpec {
  /** Collection name in the Mallard database. */
  collection: string;
  /** The key as `sh.shardCollection` takes it. */
  key: Readonly<Record<string, 1 | 'hashed'>>;
  /** Why this key (for the README and `mallard db shard --help`). */
  reason: string;
}

export const SHARD_KEYS: readonly ShardKeySpec[] = [
  {
    collection: 'messages',
    key: { mailbox: 1, uid: 1 },
    reason:
      'every message query names its mailbox (and UIDs), so it goes to one shard and reads a ' +
      'contiguous UID range; a mailbox is split across shards only when it outgrows a chunk; ' +
      'the unique {mailbox, uid} index is this key',
  },
  {
    collection: 'user_journal',
    key: { user: 1, pos: 1 },
    reason:
      "each user has a journal of their own: writers append to their user's range, a follower " +
      'reads only the users with sessions in its process (their ranges, on the shards that hold ' +
      'them); the unique {user, pos} index is this key',
  },
  {
    collection: 'expunged',
    key: { mailbox: 1, uid: 1 },
    reason:
      'expunged UIDs (QRESYNC) are written and read by mailbox, like its messages, so a resync ' +
      'reads one shard; the unique {mailbox, uid} index is this key',
  },
  {
    collection: 'thread_links',
    key: { user: 1, id: 1 },
    reason:
      "thread links (THREADID) are read and written by user and message id, so a delivery's " +
      'lookup goes to one shard, and a user with much mail spreads over several; the unique ' +
      '{user, id} index is this key',
  },
  {
    collection: 'blobs',
    key: { _id: 1 },
    reason:
      'bodies are looked up by their SHA-256 (the _id), which is already evenly spread, so a ' +
      'range key on the existing _id index spreads them without an extra hashed index',
  },
  {
    collection: 'blob_chunks',
    key: { blob: 1, gen: 1, n: 1 },
    reason:
      'the chunks of a large body are read together by blob hash and generation, from one shard; ' +
      'the hash prefix is random, so chunks spread evenly; the unique {blob, gen, n} index is this key',
  },
];
