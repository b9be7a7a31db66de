/**
 * `mallard db shard`: the commands that shard Mallard's database on a sharded cluster, with the
 * engine's own shard keys (server/store/mongodb/shard-keys.ts), and running them on a mongos.
 * Both commands are idempotent: a collection already sharded on the same key is reported as such.
 */
import { MongoClient, MongoServerError } from 'mongodb';
import { SHARD_KEYS } from '../../store/mongodb/shard-keys.ts';
import { CliError, EXIT } from '../cli-error.ts';

export type AdminCommand = Record<string, unknown>;

export interface ShardResult {
  /** The database or `database.collection` the command is about. */
  target: string;
  outcome: 'enabled' | 'sharded' | 'already sharded';
  command: AdminCommand;
}

const SELECTION_TIMEOUT_MS = 10_000;

/** The database the URI names (the engine's default when it names none). */
export function databaseOf(uri: string): string {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?]+\/([^?]*)/.exec(uri);
  const name = match?.[1] ? decodeURIComponent(match[1]) : '';
  return name || 'mallard';
}

/** enableSharding, then one shardCollection per collection of the engine, in that order. */
export function shardCommands(uri: string): AdminCommand[] {
  const database = databaseOf(uri);
  return [
    { enableSharding: database },
    ...SHARD_KEYS.map(({ collection, key }) => ({ shardCollection: `${database}.${collection}`, key })),
  ];
}

function targetOf(command: AdminCommand): string {
  return String(command.enableSharding ?? command.shardCollection);
}

/** Runs the commands on the mongos at `uri`; refuses anything that is not a mongos. */
export async function applyShardKeys(uri: string): Promise<ShardResult[]> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: SELECTION_TIMEOUT_MS });
  try {
    const admin = client.db('admin');
    let hello: { msg?: unknown };
    try {
      hello = await admin.command({ hello: 1 }).catch((error: unknown) => {
        // CommandNotFound: a server before 4.4.2 knows only the older name.
        if (error instanceof MongoServerError && error.code === 59) return admin.command({ isMaster: 1 });
        throw error;
      });
    } catch (error) {
      throw new CliError(`cannot reach ${redact(uri)}: ${(error as Error).message}`, EXIT.tempFail);
    }
    if (hello.msg !== 'isdbgrid') {
      throw new CliError(
        `${redact(uri)} is not a mongos: sharding is applied through the router (mongos) of a ` +
          'sharded cluster; a replica set or a single mongod needs no shard keys',
        EXIT.failure,
      );
    }
    const results: ShardResult[] = [];
    for (const command of shardCommands(uri)) {
      results.push(await runShardCommand(admin, command));
    }
    return results;
  } finally {
    await client.close();
  }
}

async function runShardCommand(
  admin: ReturnType<MongoClient['db']>,
  command: AdminCommand,
): Promise<ShardResult> {
  const target = targetOf(command);
  const done: ShardResult['outcome'] = 'enableSharding' in command ? 'enabled' : 'sharded';
  try {
    await admin.command(command);
    return { target, outcome: done, command };
  } catch (error) {
    // Older servers refuse a repeat (AlreadyInitialized, 23) where newer ones answer ok.
    if (error instanceof MongoServerError && (error.code === 23 || /already/i.test(error.message))) {
      return { target, outcome: done === 'enabled' ? 'enabled' : 'already sharded', command };
    }
    throw new CliError(`${target}: ${(error as Error).message}`, EXIT.failure);
  }
}

function redact(uri: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}
