/** Server status: version, uptime, listeners with their TLS, store health, sessions, deliveries. */
import { VERSION } from '../../version.ts';
import type { AdminDeps } from '../context.ts';
import { route } from '../router.ts';
import { deliveriesToday } from './deliveries.ts';
import { statusSchema, type StatusJson } from '../schemas.ts';

const TAG = 'Status';

function uptimeSeconds(deps: AdminDeps): number {
  return Math.round((Date.now() - deps.startedAt.getTime()) / 1000);
}

async function delivered(deps: AdminDeps) {
  const counted = deps.totals
    ? (await deps.totals()).delivered
    : { lmtp: deps.services.lmtp.deliveredCount ?? 0, smtp: deps.services.smtp.deliveredCount ?? 0 };
  return { ...counted, total: counted.lmtp + counted.smtp };
}

/** The light part of the status, sent as the `status` event every few seconds. */
export async function statusTick(deps: AdminDeps) {
  return {
    uptimeSeconds: uptimeSeconds(deps),
    connections: await deps.sessions.counts(),
    delivered: await delivered(deps),
    // The status must answer while the store is away (it reports that): no history then.
    today: await deliveriesToday(deps.store).catch(() => null),
  };
}

async function authStatus(deps: AdminDeps): Promise<StatusJson['auth']> {
  const snapshot = (await deps.guard?.snapshot()) ?? { lockedAddresses: 0, accountsUnderAttack: [] };
  return {
    lockedAddresses: snapshot.lockedAddresses,
    accountsUnderAttack: snapshot.accountsUnderAttack.map((alert) => ({
      ...alert,
      since: alert.since.toISOString(),
    })),
  };
}

export async function serverStatus(deps: AdminDeps): Promise<StatusJson> {
  const listeners: StatusJson['listeners'] = [];
  for (const protocol of ['imap', 'pop3', 'lmtp', 'smtp', 'submission', 'managesieve', 'web'] as const) {
    for (const listener of deps.services[protocol]?.listeners ?? []) {
      listeners.push({
        protocol,
        host: listener.host,
        port: listener.port,
        tls: listener.implicitTls ? 'implicit' : 'starttls',
      });
    }
  }
  if (deps.admin) listeners.push({ protocol: 'admin', ...deps.admin, tls: 'none' });
  let store: StatusJson['store'];
  try {
    const health = await deps.store.health();
    store = { engine: health.engine, ok: health.ok, detail: health.detail };
  } catch (error) {
    store = {
      engine: deps.store.engine,
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
    };
  }
  return {
    version: VERSION,
    startedAt: deps.startedAt.toISOString(),
    ...(await statusTick(deps)),
    listeners,
    store,
    auth: await authStatus(deps),
    acme: acmeSummary(deps),
  };
}

/** What the dashboard shows of the ACME certificate: its state, expiry and a failed renewal. */
function acmeSummary(deps: AdminDeps): StatusJson['acme'] {
  if (!deps.acme) return null;
  const status = deps.acme.status();
  return {
    state: status.state,
    notAfter: status.certificate?.notAfter ?? null,
    lastError: status.lastError,
    failures: status.failures,
    nextAttemptAt: status.nextAttemptAt,
  };
}

export const statusRoutes = [
  route({
    method: 'GET',
    path: '/api/status',
    operationId: 'getStatus',
    summary: 'Server status',
    tag: TAG,
    response: { status: 200, schema: statusSchema, description: 'The status' },
    handler: ({ deps }) => serverStatus(deps),
  }),
];
