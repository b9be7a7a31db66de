/** `mallard serve`: runs the mail server until SIGINT/SIGTERM, then shuts down cleanly. */
import { loadConfig } from '../../config/load.ts';
import { startServer } from '../../main.ts';
import { parseCommandArgs } from '../args.ts';
import { EXIT } from '../cli-error.ts';

const USAGE = 'mallard serve [--config FILE]';

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {}, USAGE);
  const config = loadConfig({ file: values.config });
  // Listen for the signal before starting: a supervisor may stop us while listeners still open,
  // and the default action would kill the process without a BYE or a closed store.
  let signalled: NodeJS.Signals | null = null;
  let onSignal: (signal: NodeJS.Signals) => void = (signal) => (signalled = signal);
  const handler = (signal: NodeJS.Signals) => onSignal(signal);
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  const server = await startServer(config);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    if (signalled) resolve(signalled);
    else onSignal = resolve;
  });
  server.logger.info({ signal }, 'shutting down');
  await server.stop();
  return EXIT.ok;
}
