/**
 * The Filters page's resource: Gmail-like filters, forwarding and vacation, kept as the managed
 * Sieve script (server/sieve/filters). Saving never silently replaces a script written by hand:
 * that is a 409 unless the body says `overwrite`. And a dry run over the last INBOX messages.
 */
import { z } from 'zod';
import {
  FiltersConflict,
  filterSettingsSchema,
  forwardingSchema,
  loadFilters,
  saveFilters,
  testFilters,
  updateFilters,
  vacationSchema,
  type UserFilters,
} from '../../sieve/filters/index.ts';
import { checkScript } from '../../sieve/index.ts';
import type { Store, User } from '../../store/types.ts';
import { ApiError } from '../errors.ts';
import { route } from '../router.ts';
import { userIdParams } from './common.ts';
import { requireUser } from './users.ts';

const TAG = 'Filters';

const overwrite = z
  .boolean()
  .optional()
  .describe('replace a hand-written active script, or hand edits of the managed one');

const filtersSchema = z.object({
  settings: filterSettingsSchema,
  state: z
    .enum(['none', 'managed', 'edited', 'other-script'])
    .describe(
      'managed: the settings are in force; edited: the managed script was changed by hand; other-script: a hand-written script is active',
    ),
  activeScript: z.string().nullable(),
});

const dryRunSchema = z.object({
  results: z.array(
    z.object({
      uid: z.number(),
      subject: z.string(),
      from: z.string(),
      matched: z.array(z.number()).describe('indexes of the filters whose conditions hold'),
      actions: z.array(z.string()).describe('what the script would do, in words'),
      error: z.string().nullable(),
    }),
  ),
});

/** Runs a save, turning a refusal to replace a hand-written script into 409. */
async function saving(
  deps: { store: Store; logger: { info(fields: object, message: string): void } },
  user: User,
  save: () => Promise<UserFilters>,
): Promise<UserFilters> {
  try {
    const saved = await save();
    deps.logger.info({ user: user.username, via: 'admin' }, 'filters saved');
    return saved;
  } catch (error) {
    if (error instanceof FiltersConflict) throw new ApiError('conflict', error.message);
    throw error;
  }
}

export const filterRoutes = [
  route({
    method: 'GET',
    path: '/api/users/{id}/filters',
    operationId: 'getFilters',
    summary: "A user's filters, forwarding and vacation reply",
    tag: TAG,
    params: userIdParams,
    response: {
      status: 200,
      schema: filtersSchema,
      description: 'The settings and whether they are in force',
    },
    async handler({ params, deps }) {
      return loadFilters(deps.store, await requireUser(deps.store, params.id));
    },
  }),

  route({
    method: 'PUT',
    path: '/api/users/{id}/filters',
    operationId: 'putFilters',
    summary: 'Save filters, forwarding and vacation (as the active Sieve script)',
    description:
      'Generates the "mallard-filters" script and makes it active. 409 when that would replace a script written by hand, unless overwrite.',
    tag: TAG,
    params: userIdParams,
    body: filterSettingsSchema.extend({ overwrite }),
    response: { status: 200, schema: filtersSchema, description: 'The saved settings' },
    async handler({ params, body, deps }) {
      const user = await requireUser(deps.store, params.id);
      const { overwrite: force, ...settings } = body;
      return saving(deps, user, () => saveFilters(deps.store, user, settings, force));
    },
  }),

  route({
    method: 'PUT',
    path: '/api/users/{id}/forwarding',
    operationId: 'putForwarding',
    summary: 'Forward all mail to an address (null: stop forwarding)',
    tag: TAG,
    params: userIdParams,
    body: z.strictObject({ forwarding: forwardingSchema.nullable(), overwrite }),
    response: { status: 200, schema: filtersSchema, description: 'The saved settings' },
    async handler({ params, body, deps }) {
      const user = await requireUser(deps.store, params.id);
      return saving(deps, user, () =>
        updateFilters(deps.store, user, { forwarding: body.forwarding }, body.overwrite),
      );
    },
  }),

  route({
    method: 'PUT',
    path: '/api/users/{id}/vacation',
    operationId: 'putVacation',
    summary: 'Set the vacation reply (null: turn it off)',
    tag: TAG,
    params: userIdParams,
    body: z.strictObject({ vacation: vacationSchema.nullable(), overwrite }),
    response: { status: 200, schema: filtersSchema, description: 'The saved settings' },
    async handler({ params, body, deps }) {
      const user = await requireUser(deps.store, params.id);
      return saving(deps, user, () =>
        updateFilters(deps.store, user, { vacation: body.vacation }, body.overwrite),
      );
    },
  }),

  route({
    method: 'POST',
    path: '/api/users/{id}/filters/test',
    operationId: 'testFilters',
    summary: 'Run filters (or a script) over the last INBOX messages, doing nothing',
    description:
      'With settings: those; with script: that Sieve script; with neither: the saved settings, or the active script when one written by hand is active.',
    tag: TAG,
    params: userIdParams,
    body: z.strictObject({
      settings: filterSettingsSchema.optional(),
      script: z
        .string()
        .max(1024 * 1024)
        .optional(),
      limit: z.int().min(1).max(200).default(20).describe('how many of the newest INBOX messages'),
    }),
    response: { status: 200, schema: dryRunSchema, description: 'Per message, newest first' },
    async handler({ params, body, deps }) {
      const user = await requireUser(deps.store, params.id);
      let source: { settings: z.infer<typeof filterSettingsSchema> } | { script: string };
      if (body.settings !== undefined) source = { settings: body.settings };
      else if (body.script !== undefined) source = { script: body.script };
      else {
        const saved = await loadFilters(deps.store, user);
        const active = await deps.store.getActiveSieveScript(user.id);
        source =
          saved.state === 'other-script' && active !== null
            ? { script: active.content }
            : { settings: saved.settings };
      }
      if ('script' in source) {
        const problem = checkScript(source.script);
        if (problem !== null)
          throw new ApiError('validation_failed', problem.message, [
            {
              path: `body.script:${problem.position.line}:${problem.position.column}`,
              message: problem.message,
            },
          ]);
      }
      return { results: await testFilters(deps.store, user, source, body.limit) };
    },
  }),
];
