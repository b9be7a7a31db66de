/**
 * The sqlite connection: pragmas, migrations and a small statement cache. better-sqlite3 is
 * synchronous, so every helper here runs to completion before returning; callers keep each call
 * short.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { StoreError } from '../errors.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.ts';
import { backfillThreadIds } from './thread-links.ts';

export const DATABASE_FILE = 'mallard.db';
/** How long a writer waits for another process's transaction before giving up (UNAVAILABLE). */
export const BUSY_TIMEOUT_MS = 10_000;

/** How much of the database file is read through a memory map (the rest through pread). */
const MMAP_BYTES = 1024 * 1024 * 1024;

/**
 * The driver, loaded with require(): an ES module import of a CommonJS package makes Node parse its
 * source for export names first (cjs-module-lexer), a cost every `mallard deliver` felt.
 */
const requireHere = createRequire(import.meta.url);
const Database = requireHere('better-sqlite3') as typeof BetterSqlite3;

/**
 * The compiled addon where node-gyp puts it, handed to the driver: its own search (the `bindings`
 * package) reads a stack trace and tries a dozen paths first. Elsewhere (a debug build), the
 * driver searches as usual.
 */
function addonFile(): string | undefined {
  try {
    return requireHere.resolve('better-sqlite3/build/Release/better_sqlite3.node');
  } catch {
    return undefined;
  }
}

type Params = unknown[];
type Statement = BetterSqlite3.Statement<Params, unknown>;

export class Sql {
  readonly db: BetterSqlite3.Database;
  private readonly statements = new Map<string, Statement>();
  // One wrapper reused for every write: `immediate` takes the write lock at BEGIN, so two processes
  // never both read under a shared lock and then deadlock upgrading it (SQLITE_BUSY without waiting).
  private readonly transaction: BetterSqlite3.Transaction<(fn: () => unknown) => unknown>;

  constructor(db: BetterSqlite3.Database) {
    this.db = db;
    this.transaction = db.transaction((fn: () => unknown) => fn());
  }

  /** The prepared statement for `source`, compiled once per connection. */
  statement(source: string): Statement {
    let statement = this.statements.get(source);
    if (!statement) {
      statement = this.db.prepare<Params, unknown>(source);
      this.statements.set(source, statement);
    }
    return statement;
  }

  get<Row>(source: string, ...params: Params): Row | undefined {
    return this.statement(source).get(...params) as Row | undefined;
  }

  all<Row>(source: string, ...params: Params): Row[] {
    return this.statement(source).all(...params) as Row[];
  }

  run(source: string, ...params: Params): BetterSqlite3.RunResult {
    return this.statement(source).run(...params);
  }

  /**
   * Runs `fn` with the memory map off, for a long scan of small rows (a mailbox's flags): through
   * the map, each page fault maps the pages around the one read too (the kernel's fault-around),
   * which in this file are mostly message bodies, so listing 100,000 messages would leave ~150 MB
   * of the file mapped into the process. Turning the map off and on again also unmaps what earlier
   * reads had mapped; the map comes back with the next read.
   */
  withoutMemoryMap<T>(fn: () => T): T {
    this.db.pragma('mmap_size = 0');
    try {
      return fn();
    } finally {
      this.db.pragma(`mmap_size = ${MMAP_BYTES}`);
    }
  }

  /** Runs `fn` in one write transaction (nested calls become savepoints). */
  write<T>(fn: () => T): T {
    return this.transaction.immediate(fn) as T;
  }
}

/**
 * Opens (creating when missing) the database in `dataDir`.
 *
 * Durability: WAL with synchronous=FULL fsyncs the WAL at every commit, so an acknowledged append
 * survives not only kill -9 of the process (which NORMAL would already give, the WAL being in the
 * OS page cache) but also a power cut or kernel crash, which a home appliance does meet. The cost is
 * one fsync per write transaction (see bench/store-append.ts).
 */
export function openDatabase(dataDir: string, busyTimeoutMs = BUSY_TIMEOUT_MS): Sql {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, DATABASE_FILE);
  // Create the file owner-only first: it holds password hashes, and sqlite gives the -wal and -shm
  // files the same mode as the database file.
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  const db = new Database(file, { timeout: busyTimeoutMs, nativeBinding: addonFile() });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Reads through a memory map: a body spans several pages (its row and the overflow chain), and
    // reading them from the map rather than one pread(2) each more than halves the cost of reading
    // a body. The map only serves reads; writes still go through the WAL.
    db.pragma(`mmap_size = ${MMAP_BYTES}`);
    // Case folding that understands more than ASCII, for user search.
    db.function('mallard_lower', { deterministic: true }, (value: unknown) =>
      typeof value === 'string' ? value.toLowerCase() : value,
    );
    const sql = new Sql(db);
    migrate(sql);
    return sql;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * A connection that only reads, for the few single-row reads answered on the event loop (see
 * inline-reads.ts). It never migrates (the writer did) and refuses writes (query_only). A small page
 * cache: it reads mailbox rows, not messages.
 */
export function openReadConnection(dataDir: string): Sql {
  // No busy wait: the event loop never sleeps in SQLite's busy handler. A reader in WAL mode meets
  // SQLITE_BUSY only in rare moments (another connection recovering the WAL); the caller then asks
  // a store thread instead.
  const db = new Database(path.join(dataDir, DATABASE_FILE), {
    fileMustExist: true,
    timeout: 0,
    nativeBinding: addonFile(),
  });
  try {
    db.pragma('query_only = ON');
    db.pragma('cache_size = -512');
    return new Sql(db);
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Work in code after the SQL of a migration, by the version it brings the schema to: filling a
 * new column from what only the server can compute (message headers), in the same transaction.
 */
const BACKFILLS: Readonly<Record<number, (sql: Sql) => void>> = {
  22: backfillThreadIds,
};

/** Brings the schema up to date. Safe when several processes open the same file at once. */
function migrate(sql: Sql): void {
  const current = userVersion(sql);
  if (current === SCHEMA_VERSION) return;
  if (current > SCHEMA_VERSION) {
    throw new StoreError(
      'UNAVAILABLE',
      `database schema version ${current} is newer than this server (${SCHEMA_VERSION})`,
    );
  }
  sql.write(() => {
    // Re-read under the write lock: another process may have migrated meanwhile.
    for (let version = userVersion(sql); version < SCHEMA_VERSION; version++) {
      sql.db.exec(MIGRATIONS[version]!);
      BACKFILLS[version + 1]?.(sql);
      sql.db.pragma(`user_version = ${version + 1}`);
    }
  });
}

function userVersion(sql: Sql): number {
  return sql.db.pragma('user_version', { simple: true }) as number;
}
