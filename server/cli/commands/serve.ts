/**
 * `mallard serve`: runs the mail server until SIGINT/SIGTERM, then shuts down cleanly. With
 * `server.workers` above 1 (0: one per core) this process becomes the supervisor of that many
 * worker processes (server/cluster/supervisor.ts), each of which runs this command again as a worker.
 */
import cluster from 'node:cluster';
import os from 'node:os';
import type { Config } from '../../config/schema.ts';
import { loadConfig } from '../../config/load.ts';
import { startServer } from '../../main.ts';
import { parseCommandArgs } from '../args.ts';
import { EXIT } from '../cli-error.ts';

const USAGE = 'mallard serve [--config FILE]';

/**
 * Resolves with the first SIGINT/SIGTERM. Listened for before anything starts: a supervisor may stop
 * us while listeners still open, and the default action would kill the process without a BYE or a
 * closed store.
 */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/** The worker processes `mallard serve` runs: `server.workers`, 0 meaning one per core. */
export function workerCount(config: Config): number {
  return config.server.workers || os.availableParallelism();
}

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {}, USAGE);
  const config = loadConfig({ file: values.config });
  const signal = stopSignal();
  if (cluster.isWorker) return serveAsWorker(config, signal);
  const workers = workerCount(config);
  if (workers > 1) return supervise(config, workers, signal);
  const server = await startServer(config).catch((error: unknown) => {
    // What was opened before the failure (the store's threads, a MongoDB client, timers) would keep
    // the process alive: a server that cannot start (a port in use) must end, so that whoever runs it
    // (a supervisor, systemd, a test) sees it at once. The error is printed and the exit code set by
    // the command runner first.
    setTimeout(() => process.exit(), 500).unref();
    throw error;
  });
  server.logger.info({ signal: await signal }, 'shutting down');
  await server.stop();
  return EXIT.ok;
}

async function serveAsWorker(config: Config, signal: Promise<NodeJS.Signals>): Promise<number> {
  const { WorkerLink } = await import('../../cluster/worker-link.ts');
  const { WORKER_ENV } = await import('../../cluster/protocol.ts');
  const link = new WorkerLink(
    Number(process.env[WORKER_ENV.slot]),
    Buffer.from(process.env[WORKER_ENV.guardKey] ?? '', 'hex'),
  );
  // The IPC channel would keep the process alive; the supervisor sees the exit.
  const leave = () => {
    link.rpc.close();
    cluster.worker?.disconnect();
  };
  const server = await startServer(config, { worker: link }).catch((error: unknown) => {
    leave();
    throw error;
  });
  link.rpc.notify('worker.ready', null);
  server.logger.info({ signal: await signal }, 'shutting down');
  await server.stop();
  leave();
  return EXIT.ok;
}

async function supervise(config: Config, workers: number, signal: Promise<NodeJS.Signals>): Promise<number> {
  const { createLogger } = await import('../../log.ts');
  const { openStore, guardOptions } = await import('../../main.ts');
  const { Supervisor } = await import('../../cluster/supervisor.ts');
  const { startRuleHooks } = await import('../../hooks/runner.ts');
  const { createTlsProvider } = await import('../../tls/context.ts');
  const logger = createLogger(config.log_level).child({ supervisor: true });
  // Done here first, once, not by N workers at once: a new database is made (or a local replica
  // set started), rules from the configuration are written into an empty store, and the
  // self-signed certificate is made when none is configured.
  const store = await openStore(config, logger);
  const rules = await startRuleHooks(store, config.rules, logger);
  createTlsProvider(config);
  const supervisor = new Supervisor({
    config,
    workers,
    logger,
    store,
    rules,
    guardOptions: guardOptions(config),
  });
  const failed = supervisor.start().then(
    () => {
      logger.info({ workers }, 'mallard started with workers');
      return null;
    },
    (error: Error) => error,
  );
  // Stopped by a signal, or at once when a worker could not start.
  const startFailure = failed.then(async (error): Promise<Error | NodeJS.Signals> => error ?? (await signal));
  const outcome = await Promise.race<Error | NodeJS.Signals>([signal, startFailure]);
  if (outcome instanceof Error) logger.fatal({ err: outcome }, 'mallard could not start; stopping');
  else logger.info({ signal: outcome }, 'shutting down the workers');
  await supervisor.stop();
  rules.stop();
  await store.close();
  logger.info('mallard stopped');
  logger.flush();
  return outcome instanceof Error ? EXIT.failure : EXIT.ok;
}
