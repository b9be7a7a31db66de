/**
 * `mallard status`: with a server running, what it reports through the admin API (version,
 * uptime, listeners with their TLS, sessions per protocol, deliveries, store health); else the
 * configuration in force and the store's health, read here.
 */
import { deliveriesToday } from '../../store/history.ts';
import type { StatusJson } from '../../admin/schemas.ts';
import type { DeliveryDay } from '../../store/history.ts';
import type { Config } from '../../config/schema.ts';
import { VERSION } from '../../version.ts';
import { findServer, type AdminClient } from '../admin-client.ts';
import { parseCommandArgs } from '../args.ts';
import { EXIT } from '../cli-error.ts';
import { printObject, withStore } from '../context.ts';
import { loadConfigLazily } from '../../config/quick-check.ts';

const USAGE = 'mallard status [--json]';

export function formatDuration(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days) return `${days}d ${hours}h ${minutes}m`;
  if (hours) return `${hours}h ${minutes}m`;
  if (minutes) return `${minutes}m ${Math.floor(seconds % 60)}s`;
  return `${Math.floor(seconds)}s`;
}

function listenerText(listener: StatusJson['listeners'][number]): string {
  const name = listener.tls === 'implicit' ? `${listener.protocol}s` : listener.protocol;
  return `${name} ${listener.host}:${listener.port} (${listener.tls === 'none' ? 'no tls' : listener.tls === 'implicit' ? 'tls' : 'starttls'})`;
}

/** Today's line: from the store's history, so it holds whether or not a server runs. */
function todayText(today: DeliveryDay | null): string {
  if (!today) return 'unknown (the store does not answer)';
  return `${today.local} stored here, ${today.sent} sent, ${today.deferred} deferred, ${today.bounced} bounced`;
}

async function serverStatus(api: AdminClient, config: Config, json: boolean | undefined): Promise<number> {
  const status = await api.request<StatusJson>('GET', '/api/status');
  const { total: users } = await api.request<{ total: number }>('GET', '/api/users?limit=1');
  const { store, connections, delivered, today } = status;
  printObject(
    {
      version: status.version,
      dataDir: config.data_dir,
      server: { url: api.url, startedAt: status.startedAt, uptimeSeconds: status.uptimeSeconds },
      store,
      users,
      listeners: status.listeners,
      sessions: connections,
      delivered,
      today,
    },
    json,
    [
      ['version', status.version],
      ['data directory', config.data_dir],
      ['server', `running since ${status.startedAt} (up ${formatDuration(status.uptimeSeconds)})`],
      ['store', `${store.engine} ${store.ok ? 'ok' : 'FAILING'} (${store.detail})`],
      ['users', users],
      ['listeners', status.listeners.map(listenerText).join(', ')],
      [
        'sessions',
        Object.entries(connections)
          .map(([protocol, count]) => `${protocol} ${count}`)
          .join(', '),
      ],
      ['delivered', `${delivered.total} since start (lmtp ${delivered.lmtp}, smtp ${delivered.smtp})`],
      ['today', todayText(today)],
    ],
  );
  return store.ok ? EXIT.ok : EXIT.failure;
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {}, USAGE);
  const config = await loadConfigLazily({ file: values.config });
  const api = await findServer(config);
  if (api) return serverStatus(api, config, values.json);
  return withStore(values.config, async ({ store }) => {
    const health = await store.health();
    const { total } = await store.listUsers({ limit: 1 });
    const today = await deliveriesToday(store).catch(() => null);
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
      { version: VERSION, dataDir: config.data_dir, store: health, users: total, listeners, today },
      values.json,
      [
        ['version', VERSION],
        ['data directory', config.data_dir],
        ['store', `${health.engine} ${health.ok ? 'ok' : 'FAILING'} (${health.detail})`],
        ['users', total],
        ['today', todayText(today)],
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
