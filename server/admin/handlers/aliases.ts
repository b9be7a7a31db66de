/** A user's addresses: the primary one, aliases and catch-alls (`*@domain`). */
import { z } from 'zod';
import { notFound } from '../errors.ts';
import { route } from '../router.ts';
import { addressSchema } from '../schemas.ts';
import { emailAddress, idParam, userIdParams } from './common.ts';
import { requireLocalDomainOf } from './domains.ts';
import { requireUser } from './users.ts';

const TAG = 'Aliases';

export const aliasRoutes = [
  route({
    method: 'GET',
    path: '/api/users/{id}/aliases',
    operationId: 'listAliases',
    summary: "List a user's addresses",
    description: 'The primary address first, then aliases, then catch-alls.',
    tag: TAG,
    params: userIdParams,
    response: {
      status: 200,
      schema: z.object({ addresses: z.array(addressSchema) }),
      description: 'The addresses',
    },
    async handler({ params, deps }) {
      const user = await requireUser(deps.store, params.id);
      const addresses = await deps.store.listAddresses(user.id);
      return { addresses: addresses.map((address) => ({ address: address.address, kind: address.kind })) };
    },
  }),

  route({
    method: 'POST',
    path: '/api/users/{id}/aliases',
    operationId: 'addAlias',
    summary: 'Add an alias or a catch-all',
    description: 'An alias is `name@domain`; `*@domain` catches all mail to the domain not otherwise taken.',
    tag: TAG,
    params: userIdParams,
    body: z.strictObject({ address: emailAddress }),
    response: { status: 201, schema: addressSchema, description: 'The new address' },
    async handler({ params, body, deps }) {
      const user = await requireUser(deps.store, params.id);
      await requireLocalDomainOf(deps.store, body.address);
      const address = await deps.store.addAddress(user.id, body.address);
      deps.logger.info({ user: user.username, address: address.address, via: 'admin' }, 'address added');
      return { address: address.address, kind: address.kind };
    },
  }),

  route({
    method: 'DELETE',
    path: '/api/users/{id}/aliases/{address}',
    operationId: 'removeAlias',
    summary: 'Remove an alias or a catch-all',
    description: 'The primary address goes only with its user (409).',
    tag: TAG,
    params: z.object({ id: idParam, address: z.string().min(1).max(254) }),
    response: { status: 204, description: 'Removed' },
    async handler({ params, deps }) {
      const user = await requireUser(deps.store, params.id);
      const wanted = params.address.trim().toLowerCase();
      const addresses = await deps.store.listAddresses(user.id);
      if (!addresses.some((address) => address.address === wanted)) {
        throw notFound(`address ${wanted} of user ${user.id}`);
      }
      await deps.store.removeAddress(wanted);
      deps.logger.info({ user: user.username, address: wanted, via: 'admin' }, 'address removed');
    },
  }),
];
