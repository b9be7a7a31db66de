/**
 * App passwords: per-device secrets that log in like the account password. The secret is made
 * here, returned once on creation, and stored only as a hash (of its normalised form, as logins
 * check it).
 */
import { z } from 'zod';
import { generateAppPassword, hashPassword, normaliseAppPassword } from '../../auth/password.ts';
import { route } from '../router.ts';
import { appPasswordSchema, createdAppPasswordSchema } from '../schemas.ts';
import { appPasswordJson, idParam, userIdParams } from './common.ts';
import { requireUser } from './users.ts';

const TAG = 'App passwords';

export const appPasswordRoutes = [
  route({
    method: 'GET',
    path: '/api/users/{id}/app-passwords',
    operationId: 'listAppPasswords',
    summary: "List a user's app passwords (without secrets)",
    tag: TAG,
    params: userIdParams,
    response: {
      status: 200,
      schema: z.object({ appPasswords: z.array(appPasswordSchema) }),
      description: 'The app passwords',
    },
    async handler({ params, deps }) {
      const user = await requireUser(deps.store, params.id);
      const list = await deps.store.listAppPasswords(user.id);
      return { appPasswords: list.map(appPasswordJson) };
    },
  }),

  route({
    method: 'POST',
    path: '/api/users/{id}/app-passwords',
    operationId: 'createAppPassword',
    summary: 'Create an app password; the secret is returned once',
    tag: TAG,
    params: userIdParams,
    body: z.strictObject({
      label: z.string().trim().max(100, 'at most 100 characters').default('').describe('e.g. "Phone"'),
    }),
    response: { status: 201, schema: createdAppPasswordSchema, description: 'The new app password' },
    async handler({ params, body, deps }) {
      const user = await requireUser(deps.store, params.id);
      const secret = generateAppPassword();
      const hash = await hashPassword(normaliseAppPassword(secret));
      const created = await deps.store.createAppPassword(user.id, body.label, hash);
      deps.logger.info(
        { user: user.username, appPassword: created.id, via: 'admin' },
        'app password created',
      );
      return { appPassword: appPasswordJson(created), secret };
    },
  }),

  route({
    method: 'DELETE',
    path: '/api/users/{id}/app-passwords/{appId}',
    operationId: 'deleteAppPassword',
    summary: 'Revoke an app password',
    tag: TAG,
    params: z.object({ id: idParam, appId: idParam }),
    response: { status: 204, description: 'Revoked' },
    async handler({ params, deps }) {
      const user = await requireUser(deps.store, params.id);
      await deps.store.deleteAppPassword(user.id, params.appId);
      deps.logger.info(
        { user: user.username, appPassword: params.appId, via: 'admin' },
        'app password revoked',
      );
    },
  }),
];
