/**
 * The first-run wizard's state and the "still missing" list: GET /api/setup gathers the facts
 * (domains, public name, accounts, the active certificate, DNS checks) and says what each means
 * (server/setup/checks.ts); POST marks the wizard finished, or opens it again.
 */
import { z } from 'zod';
import { setupChecks, SETUP_STEPS } from '../../setup/checks.ts';
import { markSetupCompleted, readSetupState } from '../../setup/state.ts';
import { LocalDomains } from '../../smtp/local-domains.ts';
import type { AdminDeps } from '../context.ts';
import { route } from '../router.ts';

const TAG = 'Setup';

const setupSchema = z
  .object({
    completed: z.boolean().describe('the admin finished or dismissed the wizard'),
    firstRun: z.boolean().describe('not completed and no account yet: the panel opens the wizard'),
    hostname: z.string().describe('the public name the server runs with'),
    domains: z.array(z.string()),
    steps: z.array(z.enum(SETUP_STEPS)),
    checks: z.array(
      z.object({
        id: z.enum(SETUP_STEPS),
        ok: z.boolean(),
        title: z.string(),
        detail: z.string(),
        step: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'Setup' });

async function setupOf(deps: AdminDeps): Promise<z.infer<typeof setupSchema>> {
  const { hostname, data_dir: dataDir } = deps.config;
  // Read afresh (no cache): a domain or account added a moment ago in the wizard counts.
  const domains = await new LocalDomains(deps.store, hostname, 0).mailDomains();
  const { total: accounts } = await deps.store.listUsers({ limit: 1 });
  const active = deps.certificates?.list().find((certificate) => certificate.active) ?? null;
  const state = readSetupState(dataDir);
  return {
    completed: state.completed,
    firstRun: !state.completed && accounts === 0,
    hostname,
    domains,
    steps: [...SETUP_STEPS],
    checks: setupChecks({
      hostname,
      domains,
      accounts,
      activeCertificate: active,
      dnsChecks: state.dnsChecks,
    }),
  };
}

export const setupRoutes = [
  route({
    method: 'GET',
    path: '/api/setup',
    operationId: 'getSetup',
    summary: 'What the first-run wizard has done and what is still missing',
    tag: TAG,
    response: { status: 200, schema: setupSchema, description: 'The checks, failed ones first to fix' },
    handler: ({ deps }) => setupOf(deps),
  }),
  route({
    method: 'POST',
    path: '/api/setup',
    operationId: 'setSetupCompleted',
    summary: 'Mark the wizard finished (or dismissed), or open it again',
    tag: TAG,
    body: z.object({ completed: z.boolean() }),
    response: { status: 200, schema: setupSchema, description: 'The state after the change' },
    async handler({ body, deps }) {
      markSetupCompleted(deps.config.data_dir, body.completed);
      return setupOf(deps);
    },
  }),
];
