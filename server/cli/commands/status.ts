/** `mallard status`: the configuration in force and the store's health. */
import { parseCommandArgs } from '../args.ts';
import { EXIT } from '../cli-error.ts';
import { printObject, withStore } from '../context.ts';
import { VERSION } from '../../version.ts';

const USAGE = 'mallard status [--json]';

export async function statusCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {}, USAGE);
  return withStore(values.config, async ({ config, store }) => {
    const health = await store.health();
    const { total } = await store.listUsers({ limit: 1 });
    const listeners = {
      imap: config.imap.port,
      imaps: config.imap.tls_port,
      pop3: config.pop3.port,
      pop3s: config.pop3.tls_port,
      lmtp: config.lmtp.port,
      smtp: config.smtp.port,
      admin: config.admin.port,
    };
    printObject(
      { version: VERSION, dataDir: config.data_dir, store: health, users: total, listeners },
      values.json,
      [
        ['version', VERSION],
        ['data directory', config.data_dir],
        ['store', `${health.engine} ${health.ok ? 'ok' : 'FAILING'} (${health.detail})`],
        ['users', total],
        [
          'ports',
          Object.entries(listeners)
            .map(([name, port]) => `${name} ${port || 'off'}`)
            .join(', '),
        ],
      ],
    );
    return health.ok ? EXIT.ok : EXIT.failure;
  });
}
