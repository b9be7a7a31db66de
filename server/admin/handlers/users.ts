/**
 * Users: list with search and paging, create (with a given or generated password), show with
 * usage, addresses and mailbox summaries, update (name, quota, disabled, password), delete with
 * all mail. Disabling or deleting an account also ends its live sessions.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { hashPassword } from '../../auth/password.ts';
import type { Store, User } from '../../store/types.ts';
import type { AdminDeps } from '../context.ts';
import { notFound } from '../errors.ts';
import { route } from '../router.ts';
import {
  createdUserSchema,
  userDetailSchema,
  userListSchema,
  userSchema,
  type UserDetailJson,
} from '../schemas.ts';
import { emailAddress, password, userIdParams, userJson } from './common.ts';
import { requireLocalDomainOf } from './domains.ts';

const TAG = 'Users';
const MAX_PAGE = 500;

const quotaBytes = z
  .number()
  .int('a whole number of bytes')
  .min(0, '0 (unlimited) or more')
  .max(Number.MAX_SAFE_INTEGER)
  .describe('storage quota in bytes; 0 means unlimited');
const name = z.string().max(200, 'at most 200 characters');

export async function requireUser(store: Store, id: string): Promise<User> {
  const user = await store.getUser(id);
  if (!user) throw notFound(`user ${id}`);
  return user;
}

/** A password to hand to a person once: 20 characters from base64url, about 120 bits. */
function generatePassword(): string {
  return crypto.randomBytes(15).toString('base64url');
}

async function userDetail(deps: AdminDeps, user: User): Promise<UserDetailJson> {
  const { store } = deps;
  const [addresses, mailboxes, quota] = await Promise.all([
    store.listAddresses(user.id),
    store.listMailboxes(user.id),
    store.getQuota(user.id),
  ]);
  const summaries = await Promise.all(
    mailboxes.map(async (mailbox) => {
      const counts = mailbox.selectable
        ? await store.mailboxCounts(mailbox.id)
        : { messages: 0, unseen: 0, bytes: 0 };
      return {
        id: mailbox.id,
        path: mailbox.path,
        specialUse: mailbox.specialUse,
        subscribed: mailbox.subscribed,
        selectable: mailbox.selectable,
        messages: counts.messages,
        unseen: counts.unseen,
        bytes: counts.bytes,
      };
    }),
  );
  return {
    ...userJson(user),
    addresses: addresses.map((address) => ({ address: address.address, kind: address.kind })),
    mailboxes: summaries,
    quota: { usedBytes: quota.usedBytes, limitBytes: quota.limitBytes },
    sessions: (await deps.sessions.ofUser(user.id)).length,
  };
}

export const userRoutes = [
  route({
    method: 'GET',
    path: '/api/users',
    operationId: 'listUsers',
    summary: 'List users',
    description: 'Sorted by username; `search` matches a substring of the username or the name.',
    tag: TAG,
    query: z.object({
      search: z.string().max(200).optional(),
      offset: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50),
    }),
    response: { status: 200, schema: userListSchema, description: 'A page of users' },
    async handler({ query, deps }) {
      const { users, total } = await deps.store.listUsers(query);
      return { users: users.map(userJson), total, offset: query.offset, limit: query.limit };
    },
  }),

  route({
    method: 'POST',
    path: '/api/users',
    operationId: 'createUser',
    summary: 'Create a user',
    description:
      'Give `password`, or `generate: true` to have one made: it is returned once in the answer. ' +
      'The username is the login name and primary address; the default mailboxes are created.',
    tag: TAG,
    body: z
      .strictObject({
        username: emailAddress,
        password: password.optional(),
        generate: z.boolean().optional().describe('generate a password and return it once'),
        name: name.optional(),
        quotaBytes: quotaBytes.optional(),
      })
      .superRefine((body, ctx) => {
        if (body.generate && body.password !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['password'],
            message: 'give a password or generate: true, not both',
          });
        if (!body.generate && body.password === undefined)
          ctx.addIssue({ code: 'custom', path: ['password'], message: 'a password, or generate: true' });
      }),
    response: { status: 201, schema: createdUserSchema, description: 'The new user' },
    async handler({ body, deps }) {
      await requireLocalDomainOf(deps.store, body.username);
      const secret = body.generate ? generatePassword() : body.password!;
      const user = await deps.store.createUser({
        username: body.username,
        passwordHash: await hashPassword(secret),
        name: body.name,
        quotaBytes: body.quotaBytes,
      });
      deps.logger.info({ user: user.username, via: 'admin' }, 'user created');
      return { user: userJson(user), ...(body.generate ? { password: secret } : {}) };
    },
  }),

  route({
    method: 'GET',
    path: '/api/users/{id}',
    operationId: 'getUser',
    summary: 'Show a user with usage, addresses and mailboxes',
    tag: TAG,
    params: userIdParams,
    response: { status: 200, schema: userDetailSchema, description: 'The user' },
    async handler({ params, deps }) {
      return userDetail(deps, await requireUser(deps.store, params.id));
    },
  }),

  route({
    method: 'PATCH',
    path: '/api/users/{id}',
    operationId: 'updateUser',
    summary: 'Update a user (name, quota, disabled, save a copy to Sent, IMAP UIDONLY, password)',
    description: 'Disabling a user also ends its live sessions.',
    tag: TAG,
    params: userIdParams,
    body: z.strictObject({
      name: name.optional(),
      quotaBytes: quotaBytes.optional(),
      disabled: z.boolean().optional(),
      saveSentCopy: z.boolean().optional().describe('store a copy of what the user sends in Sent'),
      uidOnly: z
        .boolean()
        .nullable()
        .optional()
        .describe("offer IMAP UIDONLY (some Outlook builds mishandle it); null: the server's default"),
      password: password.optional(),
    }),
    response: { status: 200, schema: userSchema, description: 'The updated user' },
    async handler({ params, body, deps }) {
      const before = await requireUser(deps.store, params.id);
      // Everything that can fail on its own happens before the first write.
      const passwordHash = body.password === undefined ? null : await hashPassword(body.password);
      const { name: newName, quotaBytes: newQuota, disabled, saveSentCopy, uidOnly } = body;
      let user = before;
      if (
        newName !== undefined ||
        newQuota !== undefined ||
        disabled !== undefined ||
        saveSentCopy !== undefined ||
        uidOnly !== undefined
      ) {
        user = await deps.store.updateUser(before.id, {
          name: newName,
          quotaBytes: newQuota,
          disabled,
          saveSentCopy,
          uidOnly,
        });
      }
      if (passwordHash !== null) await deps.store.setPasswordHash(user.id, passwordHash);
      const changed = Object.keys(body).filter((key) => key !== 'password');
      if (passwordHash !== null) changed.push('password');
      deps.logger.info({ user: user.username, changed, via: 'admin' }, 'user updated');
      if (user.disabled && !before.disabled) await deps.sessions.kickUser(user.id, 'Account disabled');
      return userJson(user);
    },
  }),

  route({
    method: 'DELETE',
    path: '/api/users/{id}',
    operationId: 'deleteUser',
    summary: 'Delete a user with all its mail',
    description: 'Mailboxes, messages, addresses and app passwords go too; live sessions are ended.',
    tag: TAG,
    params: userIdParams,
    response: { status: 204, description: 'Deleted' },
    async handler({ params, deps }) {
      const user = await requireUser(deps.store, params.id);
      await deps.store.deleteUser(user.id);
      deps.logger.info({ user: user.username, via: 'admin' }, 'user deleted');
      await deps.sessions.kickUser(user.id, 'Account deleted');
    },
  }),
];
