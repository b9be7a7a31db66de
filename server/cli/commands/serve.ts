/** `mallard serve`: runs the mail server until SIGINT/SIGTERM, then shuts down cleanly. */
import { loadConfig } from '../../config/load.ts';
import { startServer } from '../../main.ts';
import { parseCommandArgs } from '../args.ts';
import { EXIT } from '../cli-error.ts';

const USAGE = 'mallard serve [--config FILE]';

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {}, USAGE);
  const config = loadConfig({ file: values.config });
  const server = await startServer(config);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      server.logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.stop();
  return EXIT.ok;
}
