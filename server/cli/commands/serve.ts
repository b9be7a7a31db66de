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
  const server = await startServer(config);
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
  const server = await startServer(config, { worker: link });
  link.rpc.notify('worker.ready', null);
  server.logger.info({ signal: await signal }, 'shutting down');
  await server.stop();
  link.rpc.close();
  // The IPC channel would keep the process alive; the supervisor sees a clean exit.
  cluster.worker?.disconnect();
  return EXIT.ok;
}

async function supervise(config: Config, workers: number, signal: Promise<NodeJS.Signals>): Promise<number> {
  const { createLogger } = await import('../../log.ts');
  const { openStore, guardOptions } = await import('../../main.ts');
  const { Supervisor } = await import('../../cluster/supervisor.ts');
  const logger = createLogger(config.log_level).child({ supervisor: true });
  // Opened first: a new database is made (or a local replica set started) once, not by N workers at once.
  const store = await openStore(config, logger);
  // Also first: rules from the configuration are written into an empty store once.
  const { startRuleHooks } = await import('../../hooks/runner.ts');
  const rules = await startRuleHooks(store, config.rules, logger);
  const supervisor = new Supervisor({
    config,
    workers,
    logger,
    store,
    rules,
    guardOptions: guardOptions(config),
  });
  const started = supervisor.start().then(() => logger.info({ workers }, 'mallard started with workers'));
  const received = await signal;
  logger.info({ signal: received }, 'shutting down the workers');
  await supervisor.stop();
  void started;
  rules.stop();
  await store.close();
  logger.info('mallard stopped');
  logger.flush();
  return EXIT.ok;
}
