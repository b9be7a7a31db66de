/**
 * A user's Sieve scripts (server/store/sieve.ts): list, upload (checked first: a script that does
 * not compile is refused with its line and column), activate, delete; and a check of a script
 * without storing it. What `mallard sieve` calls when a server runs.
 */
import { z } from 'zod';
import { checkScript } from '../../sieve/index.ts';
import { scriptSpaceProblem, type SpaceProblem } from '../../sieve/script-space.ts';
import type { Store } from '../../store/types.ts';
import { ApiError } from '../errors.ts';
import { route } from '../router.ts';
import { idParam, userIdParams } from './common.ts';
import { requireUser } from './users.ts';

const TAG = 'Sieve';

const name = z.string().min(1).max(128).describe('the script name');
const content = z
  .string()
  .max(1024 * 1024)
  .describe('the Sieve script (RFC 5228)');

const scriptSchema = z.object({
  name: z.string(),
  active: z.boolean(),
  content: z.string(),
  updatedAt: z.string().describe('ISO 8601'),
});

function scriptOf(script: { name: string; active: boolean; content: string; updatedAt: Date }) {
  return {
    name: script.name,
    active: script.active,
    content: script.content,
    updatedAt: script.updatedAt.toISOString(),
  };
}

/** Scripts the user's scripts may include (RFC 6609 :personal): their other scripts. */
async function personalScripts(store: Store, userId: string) {
  const scripts = new Map(
    (await store.listSieveScripts(userId)).map((script) => [script.name, script.content]),
  );
  return (included: string, location: 'personal' | 'global') =>
    location === 'personal' ? (scripts.get(included) ?? null) : null;
}

function refuseInvalid(
  problem: { message: string; position: { line: number; column: number } } | null,
): void {
  if (problem === null) return;
  throw new ApiError('validation_failed', problem.message, [
    { path: `body.content:${problem.position.line}:${problem.position.column}`, message: problem.message },
  ]);
}

/** The limits ManageSieve has (script-space.ts): too large is bad input, one too many a conflict. */
function refuseNoRoom(problem: SpaceProblem | null): void {
  if (problem === null) return;
  if (problem.code === 'QUOTA/MAXSIZE') {
    throw new ApiError('validation_failed', problem.message, [
      { path: 'body.content', message: problem.message },
    ]);
  }
  throw new ApiError('conflict', problem.message);
}

export const sieveRoutes = [
  route({
    method: 'GET',
    path: '/api/users/{id}/sieve-scripts',
    operationId: 'listSieveScripts',
    summary: "List a user's Sieve scripts",
    tag: TAG,
    params: userIdParams,
    response: {
      status: 200,
      schema: z.object({ scripts: z.array(scriptSchema) }),
      description: 'The scripts, by name; at most one is active',
    },
    async handler({ params, deps }) {
      const user = await requireUser(deps.store, params.id);
      return { scripts: (await deps.store.listSieveScripts(user.id)).map(scriptOf) };
    },
  }),

  route({
    method: 'PUT',
    path: '/api/users/{id}/sieve-scripts/{name}',
    operationId: 'putSieveScript',
    summary: 'Upload a Sieve script (checked first)',
    description:
      'A script that does not compile is refused (400) with its line and column, as is one larger than managesieve.max_script_size; one more than managesieve.max_scripts is a conflict (409).',
    tag: TAG,
    params: z.object({ id: idParam, name }),
    body: z.strictObject({ content }),
    response: { status: 200, schema: scriptSchema, description: 'The stored script' },
    async handler({ params, body, deps }) {
      const user = await requireUser(deps.store, params.id);
      refuseInvalid(checkScript(body.content, { loadScript: await personalScripts(deps.store, user.id) }));
      refuseNoRoom(
        scriptSpaceProblem(
          await deps.store.listSieveScripts(user.id),
          params.name,
          Buffer.byteLength(body.content),
          deps.config.managesieve,
        ),
      );
      const script = await deps.store.putSieveScript(user.id, params.name, body.content);
      deps.logger.info({ user: user.username, script: script.name, via: 'admin' }, 'Sieve script stored');
      return scriptOf(script);
    },
  }),

  route({
    method: 'POST',
    path: '/api/users/{id}/sieve-scripts/{name}/activate',
    operationId: 'activateSieveScript',
    summary: "Make a script the user's active one",
    tag: TAG,
    params: z.object({ id: idParam, name }),
    response: { status: 204, description: 'Activated (any other script is no longer active)' },
    async handler({ params, deps }) {
      const user = await requireUser(deps.store, params.id);
      await deps.store.activateSieveScript(user.id, params.name);
      deps.logger.info({ user: user.username, script: params.name, via: 'admin' }, 'Sieve script activated');
    },
  }),

  route({
    method: 'POST',
    path: '/api/users/{id}/sieve-scripts-deactivate',
    operationId: 'deactivateSieveScripts',
    summary: 'Turn Sieve filtering off for the user (no active script)',
    tag: TAG,
    params: userIdParams,
    response: { status: 204, description: 'No script is active' },
    async handler({ params, deps }) {
      const user = await requireUser(deps.store, params.id);
      await deps.store.activateSieveScript(user.id, null);
    },
  }),

  route({
    method: 'DELETE',
    path: '/api/users/{id}/sieve-scripts/{name}',
    operationId: 'deleteSieveScript',
    summary: 'Delete a script (not the active one)',
    tag: TAG,
    params: z.object({ id: idParam, name }),
    response: { status: 204, description: 'Deleted' },
    async handler({ params, deps }) {
      const user = await requireUser(deps.store, params.id);
      await deps.store.deleteSieveScript(user.id, params.name);
    },
  }),

  route({
    method: 'POST',
    path: '/api/sieve/check',
    operationId: 'checkSieveScript',
    summary: 'Check a Sieve script without storing it',
    tag: TAG,
    body: z.strictObject({ content }),
    response: {
      status: 200,
      schema: z.object({
        ok: z.boolean(),
        error: z.object({ message: z.string(), line: z.number(), column: z.number() }).nullable(),
      }),
      description: 'Whether it compiles, and the first error with its line and column',
    },
    async handler({ body }) {
      const problem = checkScript(body.content);
      return {
        ok: problem === null,
        error: problem === null ? null : { message: problem.message, ...problem.position },
      };
    },
  }),
];
