/**
 * `mallard db migrate|shard|status`: moving the store to MongoDB, sharding it, and how it is.
 *
 * - migrate copies the configured store into the MongoDB at --to (server/store/migrate.ts),
 *   printing progress, then verifies; run it again after an interruption to resume.
 * - shard applies the recommended shard keys on a mongos (enableSharding + shardCollection).
 * - status names the engine, whether it answers, and what it holds.
 */
import type { Config } from '../../config/schema.ts';
import { loadConfigLazily } from '../../config/quick-check.ts';
import { openStore } from '../../main.ts';
import { isStoreError } from '../../store/errors.ts';
import {
  migrateStore,
  MigrationAborted,
  type MigrationProgress,
  type MigrationReport,
} from '../../store/migrate.ts';
import type { Store } from '../../store/types.ts';
import { findServer } from '../admin-client.ts';
import { parseCommandArgs } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { formatBytes, printObject } from '../context.ts';

const USAGE = `mallard db migrate --to mongodb://HOST/DATABASE [--no-verify] [--json]
       mallard db shard --uri mongodb://MONGOS/DATABASE [--dry-run] [--json]
       mallard db status [--json]`;

const MONGODB_URI = /^mongodb(\+srv)?:\/\/[^/?]+/;
/** Progress lines at most this often (phase and mailbox changes always print). */
const PROGRESS_EVERY_MS = 250;

/** The URI without its password, for output. */
export function redactUri(uri: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}

function requireMongoUri(uri: string | undefined, option: string): string {
  if (!uri) throw usageError(`missing ${option}`, USAGE);
  if (!MONGODB_URI.test(uri)) {
    throw new CliError(`${option} must be a mongodb:// or mongodb+srv:// URI, got ${uri}`, EXIT.usage);
  }
  return uri;
}

/** The configuration with the MongoDB at `uri` as its store (no local replica set). */
export function mongoConfig(config: Config, uri: string): Config {
  return {
    ...config,
    store: { ...config.store, engine: 'mongodb', mongodb: { ...config.store.mongodb, uri, local: '' } },
  };
}

function out(line: unknown[]): void {
  process.stdout.write(`${line.join('\t')}\n`);
}

export async function dbCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  const { values, positionals } = parseCommandArgs(
    rest,
    {
      to: { type: 'string' },
      uri: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'no-verify': { type: 'boolean' },
    },
    USAGE,
  );
  if (positionals.length > 0) throw usageError(`unexpected argument: ${positionals[0]}`, USAGE);
  switch (action) {
    case 'migrate':
      return migrateCommand(values.config, requireMongoUri(values.to, '--to'), {
        verify: !values['no-verify'],
        json: values.json,
      });
    case 'shard':
      return shardCommand(requireMongoUri(values.uri, '--uri'), {
        dryRun: values['dry-run'] ?? false,
        json: values.json,
      });
    case 'status':
      return statusCommand(values.config, values.json);
    default:
      throw usageError(action ? `unknown db command: ${action}` : 'missing db command', USAGE);
  }
}

// --- migrate ---

async function migrateCommand(
  configFile: string | undefined,
  uri: string,
  options: { verify: boolean; json: boolean | undefined },
): Promise<number> {
  const config = await loadConfigLazily({ file: configFile });
  if (config.store.engine === 'mongodb' && config.store.mongodb.uri === uri) {
    throw new CliError('the configured store is already this database: nothing to migrate', EXIT.usage);
  }
  if (await findServer(config)) {
    process.stderr.write(
      'mallard: a server is running on this store; mail that arrives during the migration is ' +
        'copied by running it again after stopping the server\n',
    );
  }
  const source = await openStore(config);
  let target: Store | null = null;
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    target = await openStore(mongoConfig(config, uri));
    const from = (await source.health()).detail;
    // With --json, stdout carries only the report; progress goes to stderr.
    const print = options.json ? (line: unknown[]) => process.stderr.write(`${line.join('\t')}\n`) : out;
    print(['migrate', `${source.engine} ${from}`, `-> ${target.engine} ${redactUri(uri)}`]);
    const report = await migrateStore(source, target, {
      verify: options.verify,
      signal: controller.signal,
      onProgress: progressPrinter(print),
    });
    printReport(report, options.json);
    if (report.mismatches.length > 0) {
      process.stderr.write(
        `mallard: verification found ${report.mismatches.length} mismatch(es); ` +
          'run the migration again to copy what is missing\n',
      );
      return EXIT.dataError;
    }
    return EXIT.ok;
  } catch (error) {
    if (error instanceof MigrationAborted) throw new CliError(error.message, EXIT.tempFail);
    if (isStoreError(error, 'UNAVAILABLE')) {
      throw new CliError(`${error.message}; run the migration again to resume`, EXIT.tempFail);
    }
    throw error;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await target?.close();
    await source.close();
  }
}

function progressPrinter(print: (line: unknown[]) => void): (progress: MigrationProgress) => void {
  let last = 0;
  let lastPlace = '';
  return (progress) => {
    const place = `${progress.phase} ${progress.user ?? ''} ${progress.mailbox ?? ''}`;
    const now = Date.now();
    if (place === lastPlace && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    lastPlace = place;
    if (progress.phase === 'verify') {
      print(['verifying', `${progress.usersDone}/${progress.usersTotal} users`, where(progress)]);
      return;
    }
    if (progress.phase === 'rules' || progress.phase === 'done') return;
    print([
      'progress',
      `${progress.messagesDone}/${progress.messagesTotal} messages`,
      `${progress.usersDone}/${progress.usersTotal} users`,
      `copied ${progress.messagesCopied} (${formatBytes(progress.bytesCopied)})`,
      where(progress),
    ]);
  };
}

function where(progress: MigrationProgress): string {
  return [progress.user, progress.mailbox].filter((part) => part !== null).join(' ');
}

function printReport(report: MigrationReport, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  for (const note of report.notes) out(['note', note]);
  for (const mailbox of report.verification ?? []) {
    out([
      'verified',
      mailbox.user,
      mailbox.path,
      `${mailbox.messages} messages`,
      mailbox.ok ? 'ok' : 'MISMATCH',
    ]);
  }
  for (const mismatch of report.mismatches) out(['mismatch', mismatch]);
  const checked = report.verification === null ? 'not verified' : 'verified';
  out([
    'summary',
    `${checked}: ${report.users} users, ${report.mailboxes} mailboxes, ${report.messagesTotal} messages ` +
      `(${report.messagesCopied} copied, ${report.messagesSkipped} already there, ` +
      `${formatBytes(report.bytesCopied)}), rules ${report.rules}, ` +
      `${report.mismatches.length} mismatches, ${(report.ms / 1000).toFixed(1)} s`,
  ]);
}

// --- shard ---

async function shardCommand(
  uri: string,
  options: { dryRun: boolean; json: boolean | undefined },
): Promise<number> {
  // Loaded here: the driver is needed by this command only.
  const { applyShardKeys, shardCommands } = await import('./db-shard.ts');
  if (options.dryRun) {
    const commands = shardCommands(uri);
    if (options.json) process.stdout.write(`${JSON.stringify(commands, null, 2)}\n`);
    else for (const command of commands) out(['command', JSON.stringify(command)]);
    return EXIT.ok;
  }
  const results = await applyShardKeys(uri);
  if (options.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else for (const result of results) out([result.target, result.outcome, JSON.stringify(result.command)]);
  return EXIT.ok;
}

// --- status ---

async function statusCommand(configFile: string | undefined, json: boolean | undefined): Promise<number> {
  const config = await loadConfigLazily({ file: configFile });
  const where =
    config.store.engine === 'mongodb'
      ? config.store.mongodb.local
        ? `local replica set (${config.store.mongodb.local_members} member(s)) under ${config.data_dir}`
        : redactUri(config.store.mongodb.uri)
      : config.data_dir;
  let store: Store;
  try {
    store = await openStore(config);
  } catch (error) {
    if (!isStoreError(error, 'UNAVAILABLE')) throw error;
    printObject(
      { engine: config.store.engine, location: where, reachable: false, detail: error.message },
      json,
      [
        ['engine', config.store.engine],
        ['location', where],
        ['reachable', `no (${error.message})`],
      ],
    );
    return EXIT.tempFail;
  }
  try {
    const health = await store.health();
    const users = health.ok ? (await store.listUsers({ limit: 1 })).total : null;
    const stats = health.ok ? await engineStats(store) : {};
    printObject(
      { engine: store.engine, location: where, reachable: health.ok, detail: health.detail, users, ...stats },
      json,
      [
        ['engine', store.engine],
        ['location', where],
        ['reachable', health.ok ? `yes (${health.detail})` : `no (${health.detail})`],
        ...(users === null ? [] : [['users', users] as [string, unknown]]),
        ...Object.entries(stats),
      ],
    );
    return health.ok ? EXIT.ok : EXIT.tempFail;
  } finally {
    await store.close();
  }
}

/** Engine figures beyond the contract (mailbox, message and blob counts), when the engine has them. */
async function engineStats(store: Store): Promise<Record<string, number>> {
  const withStats = store as Store & { stats?: () => Promise<Record<string, unknown>> };
  if (typeof withStats.stats !== 'function') return {};
  const stats = await withStats.stats();
  const figures: Record<string, number> = {};
  for (const [key, value] of Object.entries(stats)) {
    if (typeof value === 'number' && key !== 'users') figures[key] = value;
  }
  return figures;
}
