/**
 * Every route of the admin API against a real server: success (checked against the route's own
 * response schema), validation failure, missing and wrong token, and unknown ids. The table must
 * have a case for each route in the router, so a new route cannot go untested.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ROUTES } from '../../server/admin/routes.ts';
import { errorSchema } from '../../server/admin/schemas.ts';
import { runBackup } from '../../server/backup/run.ts';
import { startPebble, type Pebble } from '../helpers/pebble.ts';
import { LineClient } from '../helpers/server.ts';
import { startAdminHarness, type AdminHarness, type ApiResult } from './harness.ts';

let h: AdminHarness;
let userId: string;
let ruleId: string;
const clients: LineClient[] = [];

beforeAll(async () => {
  h = await startAdminHarness({
    admin: { throttle: { baseDelayMs: 0, maxDelayMs: 0, lockoutAfter: 100_000 } },
  });
  userId = await h.addUser('alice@example.test', 'alice password');
  ruleId = (await h.server.store.createRule({ kind: 'deny', cidrs: ['192.0.2.0/24'], note: 'test net' })).id;
});
afterAll(async () => {
  for (const client of clients) client.close();
  await h.stop();
  await pebble?.stop();
});

interface Request {
  path: string;
  body?: unknown;
}

interface Case {
  /** Makes what the call needs and returns it. */
  ok(): Promise<Request>;
  status: number;
  check?(result: ApiResult): void | Promise<void>;
  /** A request refused with 400 validation_failed (required when the route takes any input). */
  invalid?(): Promise<Request> | Request;
  /** A request naming an id that does not exist (required when the route has path parameters). */
  unknown?(): Promise<Request> | Request;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}${++counter}-${Date.now() % 100_000}`;

/** An import job that has ended: its source (a closed port) refused the connection. */
async function endedImportJob(): Promise<{ user: string; job: string }> {
  const user = await h.addUser(`${unique('importer')}@example.test`, 'a long password');
  const started = await h.call('POST', `/api/users/${user}/imports`, {
    body: { host: '127.0.0.1', port: 9, security: 'plain', login: 'x', password: 'y', keepPassword: true },
  });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  await expect
    .poll(async () => (await h.call('GET', `/api/users/${user}/imports`)).body.jobs[0].state, {
      timeout: 30_000,
    })
    .not.toBe('running');
  return { user, job: started.body.id as string };
}

async function newDomain(): Promise<string> {
  return (await h.server.store.createDomain({ name: `${unique('dom')}.example` })).name;
}

async function newUser(): Promise<string> {
  return h.addUser(`${unique('user')}@example.test`, 'a long password');
}

async function newSession(): Promise<string> {
  const client = await LineClient.connect(h.imapPort);
  clients.push(client);
  await client.readUntil(/^\* OK/);
  const ids = new Set(h.server.sessions.list().map((session) => session.id));
  const session = h.server.sessions
    .list()
    .find((candidate) => candidate.protocol === 'imap' && ids.has(candidate.id));
  return session!.id;
}

/** A message in the outbound queue, to a domain that does not exist (its delivery bounces). */
let dkimUser: Promise<string> | null = null;
/** A domain this server serves (a user there), for the DKIM routes. */
async function dkimDomain(): Promise<string> {
  dkimUser ??= h.addUser('keys@dkim-api.test', 'long-enough-pw');
  await dkimUser;
  return 'dkim-api.test';
}

async function newQueued(): Promise<string> {
  const queued = await h.server.store.enqueueOutbound({
    userId: null,
    sender: '',
    recipients: ['bob@remote.test'],
    raw: Buffer.from('Subject: queued\r\n\r\nbody\r\n'),
  });
  return queued.id;
}

async function ensureAuthority(): Promise<void> {
  const certificates = h.server.tls.certificates;
  if (!certificates.list().some((info) => info.kind === 'ca'))
    certificates.createAuthority({ keyType: 'ecdsa' });
}

const LONG_ID = 'x'.repeat(200);

let pebble: Pebble | null = null;

/**
 * The server's ACME settings pointed at a pebble started for these cases. Its validator reaches no
 * DNS, so no order gets past its challenges (test/acme/ covers issuing); the routes are what counts.
 */
async function acmeToPebble(): Promise<void> {
  pebble ??= await startPebble({ dnsServer: '127.0.0.1:9' });
  Object.assign(h.server.config.acme, {
    directory_url: pebble.directoryUrl,
    ca_file: pebble.caFile,
    accept_terms: true,
    host: '127.0.0.1',
    http_port: 0,
  });
  h.server.config.hostname = 'mail.example.test';
  await h.server.acme!.settled();
}

const CASES: Record<string, Case> = {
  'GET /api/status': {
    ok: async () => ({ path: '/api/status' }),
    status: 200,
    check: ({ body }) => {
      expect(body.store).toMatchObject({ engine: 'sqlite', ok: true });
      expect(body.listeners).toContainEqual(expect.objectContaining({ protocol: 'imap', tls: 'implicit' }));
      expect(body.listeners).toContainEqual(
        expect.objectContaining({ protocol: 'admin', port: h.server.admin!.port }),
      );
    },
  },
  'GET /api/domains': {
    ok: async () => ({ path: '/api/domains' }),
    status: 200,
    check: ({ body }) =>
      expect(body.domains).toContainEqual(
        expect.objectContaining({
          name: 'example.test',
          catchAll: null,
          dkim: true,
          users: expect.any(Number),
          aliases: 0,
        }),
      ),
  },
  'POST /api/domains': {
    ok: async () => ({ path: '/api/domains', body: { name: `${unique('d')}.Example.NET` } }),
    status: 201,
    check: ({ body }) => expect(body.domain.name).toMatch(/^d\d+-\d+\.example\.net$/),
    invalid: () => ({ path: '/api/domains', body: { name: 42 } }),
  },
  'GET /api/domains/{name}': {
    ok: async () => ({ path: '/api/domains/EXAMPLE.test' }),
    status: 200,
    check: ({ body }) => expect(body.domain.name).toBe('example.test'),
    invalid: () => ({ path: `/api/domains/${'x'.repeat(300)}` }),
    unknown: () => ({ path: '/api/domains/nowhere.example' }),
  },
  'PATCH /api/domains/{name}': {
    ok: async () => ({ path: `/api/domains/${await newDomain()}`, body: { dkim: false, catchAll: null } }),
    status: 200,
    check: ({ body }) => expect(body.domain).toMatchObject({ dkim: false, catchAll: null }),
    invalid: () => ({ path: '/api/domains/example.test', body: { dkim: 'yes' } }),
    unknown: () => ({ path: '/api/domains/nowhere.example', body: { dkim: false } }),
  },
  'DELETE /api/domains/{name}': {
    ok: async () => ({ path: `/api/domains/${await newDomain()}` }),
    status: 204,
    invalid: () => ({ path: `/api/domains/${'x'.repeat(300)}` }),
    unknown: () => ({ path: '/api/domains/nowhere.example' }),
  },
  'GET /api/domains/{name}/dns': {
    ok: async () => ({ path: '/api/domains/example.test/dns' }),
    status: 200,
    check: ({ body }) =>
      expect(body.records).toContainEqual({
        purpose: 'SPF',
        name: 'example.test',
        type: 'TXT',
        value: 'v=spf1 mx -all',
      }),
    invalid: () => ({ path: `/api/domains/${'x'.repeat(300)}/dns` }),
    unknown: () => ({ path: '/api/domains/nowhere.example/dns' }),
  },
  'POST /api/domains/{name}/dns-check': {
    // Nothing answers DNS here (the harness points the resolver at a closed port): all missing.
    ok: async () => ({ path: '/api/domains/example.test/dns-check' }),
    status: 200,
    check: ({ body }) => {
      expect(body.ok).toBe(false);
      expect(body.checks.find((entry: { purpose: string }) => entry.purpose === 'MX').status).toBe('missing');
    },
    invalid: () => ({ path: `/api/domains/${'x'.repeat(300)}/dns-check` }),
    unknown: () => ({ path: '/api/domains/nowhere.example/dns-check' }),
  },
  'GET /api/users': {
    ok: async () => ({ path: '/api/users?search=ALICE&offset=0&limit=10' }),
    status: 200,
    check: ({ body }) => {
      expect(body.total).toBe(1);
      expect(body.users[0].username).toBe('alice@example.test');
    },
    invalid: () => ({ path: '/api/users?limit=0' }),
  },
  'POST /api/users': {
    ok: async () => ({
      path: '/api/users',
      body: { username: `${unique('new')}@example.test`, generate: true, name: 'New' },
    }),
    status: 201,
    check: ({ body }) => {
      expect(body.password).toMatch(/^[\w-]{20}$/);
      expect(body.user.name).toBe('New');
    },
    invalid: () => ({ path: '/api/users', body: { username: 'not an address', password: 'long enough' } }),
  },
  'GET /api/users/{id}': {
    ok: async () => ({ path: `/api/users/${userId}` }),
    status: 200,
    check: ({ body }) => {
      expect(body.addresses).toContainEqual({ address: 'alice@example.test', kind: 'primary' });
      expect(body.mailboxes.map((mailbox: { path: string }) => mailbox.path)).toContain('INBOX');
      expect(body.quota).toEqual({ usedBytes: 0, limitBytes: 0 });
    },
    invalid: () => ({ path: `/api/users/${LONG_ID}` }),
    unknown: () => ({ path: '/api/users/999999' }),
  },
  'PATCH /api/users/{id}': {
    ok: async () => ({
      path: `/api/users/${await newUser()}`,
      body: { name: 'Renamed', quotaBytes: 1_000_000 },
    }),
    status: 200,
    check: ({ body }) => expect(body).toMatchObject({ name: 'Renamed', quotaBytes: 1_000_000 }),
    invalid: () => ({ path: `/api/users/${userId}`, body: { quotaBytes: -1 } }),
    unknown: () => ({ path: '/api/users/999999', body: { name: 'x' } }),
  },
  'DELETE /api/users/{id}': {
    ok: async () => ({ path: `/api/users/${await newUser()}` }),
    status: 204,
    invalid: () => ({ path: `/api/users/${LONG_ID}` }),
    unknown: () => ({ path: '/api/users/999999' }),
  },
  'GET /api/users/{id}/aliases': {
    ok: async () => ({ path: `/api/users/${userId}/aliases` }),
    status: 200,
    check: ({ body }) =>
      expect(body.addresses[0]).toEqual({ address: 'alice@example.test', kind: 'primary' }),
    invalid: () => ({ path: `/api/users/${LONG_ID}/aliases` }),
    unknown: () => ({ path: '/api/users/999999/aliases' }),
  },
  'POST /api/users/{id}/aliases': {
    ok: async () => ({
      path: `/api/users/${userId}/aliases`,
      body: { address: `${unique('alias')}@example.test` },
    }),
    status: 201,
    check: ({ body }) => expect(body.kind).toBe('alias'),
    invalid: () => ({ path: `/api/users/${userId}/aliases`, body: { address: 'nope' } }),
    unknown: () => ({ path: '/api/users/999999/aliases', body: { address: 'a@example.test' } }),
  },
  'GET /api/users/{id}/spam-lists': {
    ok: async () => {
      await h.server.store.setSpamEntry(userId, 'allow', 'friend@example.test');
      return { path: `/api/users/${userId}/spam-lists` };
    },
    status: 200,
    check: ({ body }) =>
      expect(body.entries).toContainEqual(
        expect.objectContaining({ list: 'allow', pattern: 'friend@example.test' }),
      ),
    invalid: () => ({ path: `/api/users/${LONG_ID}/spam-lists` }),
    unknown: () => ({ path: '/api/users/999999/spam-lists' }),
  },
  'POST /api/users/{id}/spam-lists': {
    ok: async () => ({
      path: `/api/users/${userId}/spam-lists`,
      body: { list: 'block', pattern: '@Bulk.Example.test' },
    }),
    status: 201,
    check: async ({ body }) => {
      expect(body).toMatchObject({ list: 'block', pattern: 'bulk.example.test' });
      const entries = await h.server.store.listSpamEntries(userId);
      expect(entries.map((entry) => [entry.pattern, entry.list])).toContainEqual([
        'bulk.example.test',
        'block',
      ]);
    },
    invalid: () => ({
      path: `/api/users/${userId}/spam-lists`,
      body: { list: 'block', pattern: 'not a sender' },
    }),
    unknown: () => ({
      path: '/api/users/999999/spam-lists',
      body: { list: 'allow', pattern: 'a@example.test' },
    }),
  },
  'DELETE /api/users/{id}/spam-lists/{pattern}': {
    ok: async () => {
      await h.server.store.setSpamEntry(userId, 'block', 'gone.example.test');
      return { path: `/api/users/${userId}/spam-lists/gone.example.test` };
    },
    status: 204,
    check: async () =>
      expect((await h.server.store.listSpamEntries(userId)).map((entry) => entry.pattern)).not.toContain(
        'gone.example.test',
      ),
    invalid: () => ({ path: `/api/users/${userId}/spam-lists/${'a'.repeat(300)}` }),
    unknown: () => ({ path: `/api/users/${userId}/spam-lists/never.example.test` }),
  },
  'GET /api/users/{id}/sieve-scripts': {
    ok: async () => {
      await h.server.store.putSieveScript(userId, 'listed', 'keep;');
      return { path: `/api/users/${userId}/sieve-scripts` };
    },
    status: 200,
    check: ({ body }) =>
      expect(body.scripts).toContainEqual(expect.objectContaining({ name: 'listed', content: 'keep;' })),
    invalid: () => ({ path: `/api/users/${LONG_ID}/sieve-scripts` }),
    unknown: () => ({ path: '/api/users/999999/sieve-scripts' }),
  },
  'PUT /api/users/{id}/sieve-scripts/{name}': {
    ok: async () => ({
      path: `/api/users/${userId}/sieve-scripts/uploaded`,
      body: { content: 'require "fileinto";\nfileinto "Lists";\n' },
    }),
    status: 200,
    check: async ({ body }) => {
      expect(body).toMatchObject({ name: 'uploaded', active: false });
      expect((await h.server.store.getSieveScript(userId, 'uploaded'))?.content).toMatch(/fileinto "Lists"/);
    },
    invalid: () => ({
      path: `/api/users/${userId}/sieve-scripts/broken`,
      body: { content: 'require "fileinto";\nfileinto "x"' },
    }),
    unknown: () => ({ path: '/api/users/999999/sieve-scripts/x', body: { content: 'keep;' } }),
  },
  'POST /api/users/{id}/sieve-scripts/{name}/activate': {
    ok: async () => {
      await h.server.store.putSieveScript(userId, 'to-activate', 'keep;');
      return { path: `/api/users/${userId}/sieve-scripts/to-activate/activate` };
    },
    status: 204,
    check: async () => expect((await h.server.store.getActiveSieveScript(userId))?.name).toBe('to-activate'),
    invalid: () => ({ path: `/api/users/${userId}/sieve-scripts/${'a'.repeat(300)}/activate` }),
    unknown: () => ({ path: `/api/users/${userId}/sieve-scripts/never/activate` }),
  },
  'POST /api/users/{id}/sieve-scripts-deactivate': {
    ok: async () => ({ path: `/api/users/${userId}/sieve-scripts-deactivate` }),
    status: 204,
    check: async () => expect(await h.server.store.getActiveSieveScript(userId)).toBeNull(),
    invalid: () => ({ path: `/api/users/${LONG_ID}/sieve-scripts-deactivate` }),
    unknown: () => ({ path: '/api/users/999999/sieve-scripts-deactivate' }),
  },
  'DELETE /api/users/{id}/sieve-scripts/{name}': {
    ok: async () => {
      await h.server.store.putSieveScript(userId, 'gone', 'keep;');
      return { path: `/api/users/${userId}/sieve-scripts/gone` };
    },
    status: 204,
    check: async () => expect(await h.server.store.getSieveScript(userId, 'gone')).toBeNull(),
    invalid: () => ({ path: `/api/users/${userId}/sieve-scripts/${'a'.repeat(300)}` }),
    unknown: () => ({ path: `/api/users/${userId}/sieve-scripts/never` }),
  },
  'GET /api/users/{id}/filters': {
    ok: async () => ({ path: `/api/users/${userId}/filters` }),
    status: 200,
    check: ({ body }) => expect(body.settings).toHaveProperty('filters'),
    invalid: () => ({ path: `/api/users/${LONG_ID}/filters` }),
    unknown: () => ({ path: '/api/users/999999/filters' }),
  },
  'PUT /api/users/{id}/filters': {
    ok: async () => ({
      path: `/api/users/${userId}/filters`,
      body: {
        filters: [{ conditions: { listId: 'lists.example' }, actions: { label: 'Lists' } }],
        overwrite: true,
      },
    }),
    status: 200,
    check: async ({ body }) => {
      expect(body).toMatchObject({ state: 'managed', activeScript: 'mallard-filters' });
      expect((await h.server.store.getActiveSieveScript(userId))?.content).toMatch(
        /fileinto :create "Lists"/,
      );
    },
    invalid: () => ({
      path: `/api/users/${userId}/filters`,
      body: { filters: [{ conditions: {}, actions: {} }] },
    }),
    unknown: () => ({ path: '/api/users/999999/filters', body: {} }),
  },
  'PUT /api/users/{id}/forwarding': {
    ok: async () => ({
      path: `/api/users/${userId}/forwarding`,
      body: { forwarding: { address: 'elsewhere@remote.example', keepCopy: true }, overwrite: true },
    }),
    status: 200,
    check: ({ body }) =>
      expect(body.settings.forwarding).toEqual({ address: 'elsewhere@remote.example', keepCopy: true }),
    invalid: () => ({ path: `/api/users/${userId}/forwarding`, body: { forwarding: { address: 'nope' } } }),
    unknown: () => ({ path: '/api/users/999999/forwarding', body: { forwarding: null } }),
  },
  'PUT /api/users/{id}/vacation': {
    ok: async () => ({
      path: `/api/users/${userId}/vacation`,
      body: { vacation: { subject: 'Away', body: 'Back soon.', until: '2999-01-01' }, overwrite: true },
    }),
    status: 200,
    check: ({ body }) => expect(body.settings.vacation).toMatchObject({ subject: 'Away', days: 7 }),
    invalid: () => ({
      path: `/api/users/${userId}/vacation`,
      body: { vacation: { subject: 'Away', body: 'x', from: '2026-02-30x' } },
    }),
    unknown: () => ({ path: '/api/users/999999/vacation', body: { vacation: null } }),
  },
  'POST /api/users/{id}/filters/test': {
    ok: async () => ({
      path: `/api/users/${userId}/filters/test`,
      body: { script: 'require "fileinto"; fileinto "Elsewhere";' },
    }),
    status: 200,
    check: ({ body }) => expect(Array.isArray(body.results)).toBe(true),
    invalid: () => ({ path: `/api/users/${userId}/filters/test`, body: { limit: 0 } }),
    unknown: () => ({ path: '/api/users/999999/filters/test', body: {} }),
  },
  'POST /api/sieve/check': {
    ok: async () => ({ path: '/api/sieve/check', body: { content: 'keep;\nif true {\n' } }),
    status: 200,
    check: ({ body }) =>
      expect(body).toEqual({
        ok: false,
        error: {
          message: 'line 3, column 1: expected a command or "}", found end of script',
          line: 3,
          column: 1,
        },
      }),
    invalid: () => ({ path: '/api/sieve/check', body: { content: 42 } }),
  },
  'DELETE /api/users/{id}/aliases/{address}': {
    ok: async () => {
      const address = `${unique('gone')}@example.test`;
      await h.server.store.addAddress(userId, address);
      return { path: `/api/users/${userId}/aliases/${encodeURIComponent(address)}` };
    },
    status: 204,
    invalid: () => ({ path: `/api/users/${userId}/aliases/${'a'.repeat(300)}` }),
    unknown: () => ({ path: `/api/users/${userId}/aliases/nobody%40example.test` }),
  },
  'GET /api/users/{id}/app-passwords': {
    ok: async () => ({ path: `/api/users/${userId}/app-passwords` }),
    status: 200,
    invalid: () => ({ path: `/api/users/${LONG_ID}/app-passwords` }),
    unknown: () => ({ path: '/api/users/999999/app-passwords' }),
  },
  'POST /api/users/{id}/app-passwords': {
    ok: async () => ({ path: `/api/users/${userId}/app-passwords`, body: { label: 'Phone' } }),
    status: 201,
    check: ({ body }) => {
      expect(body.secret).toMatch(/^[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}$/);
      expect(body.appPassword.label).toBe('Phone');
    },
    invalid: () => ({ path: `/api/users/${userId}/app-passwords`, body: { label: 7 } }),
    unknown: () => ({ path: '/api/users/999999/app-passwords', body: {} }),
  },
  'DELETE /api/users/{id}/app-passwords/{appId}': {
    ok: async () => {
      const created = await h.server.store.createAppPassword(userId, 'old', 'hash');
      return { path: `/api/users/${userId}/app-passwords/${created.id}` };
    },
    status: 204,
    invalid: () => ({ path: `/api/users/${userId}/app-passwords/${LONG_ID}` }),
    unknown: () => ({ path: `/api/users/${userId}/app-passwords/999999` }),
  },
  'GET /api/rules': {
    ok: async () => ({ path: '/api/rules' }),
    status: 200,
    check: ({ body }) =>
      expect(body.rules).toContainEqual(
        expect.objectContaining({ id: ruleId, kind: 'deny', counters: { allow: 0, deny: 0, errors: 0 } }),
      ),
  },
  'POST /api/rules': {
    ok: async () => ({
      path: '/api/rules',
      body: { kind: 'max-conn', limit: 50, protocols: ['imap'], note: 'x' },
    }),
    status: 201,
    check: ({ body }) => expect(body).toMatchObject({ kind: 'max-conn', limit: 50, protocols: ['imap'] }),
    // The store's own check: a deny rule needs ranges.
    invalid: () => ({ path: '/api/rules', body: { kind: 'deny', cidrs: [] } }),
  },
  'POST /api/rules/test': {
    ok: async () => ({ path: '/api/rules/test', body: { address: '192.0.2.7', protocol: 'imap' } }),
    status: 200,
    check: ({ body }) => expect(body.connect).toMatchObject({ allow: false, ruleId }),
    invalid: () => ({ path: '/api/rules/test', body: { address: 'not-an-ip' } }),
  },
  'PATCH /api/rules/{id}': {
    ok: async () => ({ path: `/api/rules/${ruleId}`, body: { note: 'documentation range' } }),
    status: 200,
    check: ({ body }) => expect(body.note).toBe('documentation range'),
    invalid: () => ({ path: `/api/rules/${ruleId}`, body: { enabled: 'yes' } }),
    unknown: () => ({ path: '/api/rules/999999', body: { note: 'x' } }),
  },
  'DELETE /api/rules/{id}': {
    ok: async () => {
      const rule = await h.server.store.createRule({ kind: 'rate', limit: 100 });
      return { path: `/api/rules/${rule.id}` };
    },
    status: 204,
    invalid: () => ({ path: `/api/rules/${LONG_ID}` }),
    unknown: () => ({ path: '/api/rules/999999' }),
  },
  'POST /api/rules/{id}/move': {
    ok: async () => {
      const rule = await h.server.store.createRule({ kind: 'rate', limit: 10 });
      return { path: `/api/rules/${rule.id}/move`, body: { position: 1 } };
    },
    status: 200,
    check: ({ body }) => expect(body.position).toBe(1),
    invalid: () => ({ path: `/api/rules/${ruleId}/move`, body: { position: 0 } }),
    unknown: () => ({ path: '/api/rules/999999/move', body: { position: 1 } }),
  },
  'GET /api/sessions': {
    ok: async () => {
      await newSession();
      return { path: '/api/sessions?protocol=imap' };
    },
    status: 200,
    check: ({ body }) => expect(body.total).toBeGreaterThan(0),
    invalid: () => ({ path: '/api/sessions?protocol=gopher' }),
  },
  'GET /api/queue': {
    ok: () => Promise.resolve({ path: '/api/queue' }),
    status: 200,
  },
  'GET /api/queue/{id}': {
    ok: async () => ({ path: `/api/queue/${await newQueued()}` }),
    status: 200,
    check: ({ body }) => expect(body.recipients[0]).toMatchObject({ address: 'bob@remote.test' }),
    invalid: () => ({ path: `/api/queue/${LONG_ID}` }),
    unknown: () => ({ path: '/api/queue/nosuchmessage' }),
  },
  'POST /api/queue/{id}/retry': {
    ok: async () => ({ path: `/api/queue/${await newQueued()}/retry` }),
    status: 200,
    invalid: () => ({ path: `/api/queue/${LONG_ID}/retry` }),
    unknown: () => ({ path: '/api/queue/nosuchmessage/retry' }),
  },
  'DELETE /api/queue/{id}': {
    ok: async () => ({ path: `/api/queue/${await newQueued()}` }),
    status: 204,
    invalid: () => ({ path: `/api/queue/${LONG_ID}` }),
    unknown: () => ({ path: '/api/queue/nosuchmessage' }),
  },
  'GET /api/dns-records': {
    ok: async () => {
      await dkimDomain();
      return { path: '/api/dns-records' };
    },
    status: 200,
    check: ({ body }) =>
      expect(
        body.domains.find((d: { domain: string }) => d.domain === 'dkim-api.test').records[0],
      ).toMatchObject({
        purpose: 'MX',
        type: 'MX',
      }),
  },
  'GET /api/dkim/{domain}': {
    ok: async () => ({ path: `/api/dkim/${await dkimDomain()}` }),
    status: 200,
    check: ({ body }) => expect(body.records[0]).toMatchObject({ algorithm: 'rsa', active: true }),
    invalid: () => ({ path: '/api/dkim/not_a_domain' }),
    unknown: () => ({ path: '/api/dkim/not-served.test' }),
  },
  'POST /api/dkim/{domain}/rotate': {
    ok: async () => ({ path: `/api/dkim/${await dkimDomain()}/rotate`, body: { algorithm: 'ed25519' } }),
    status: 200,
    invalid: async () => ({ path: `/api/dkim/${await dkimDomain()}/rotate`, body: { algorithm: 'dsa' } }),
    unknown: () => ({ path: '/api/dkim/not-served.test/rotate', body: {} }),
  },
  'DELETE /api/dkim/{domain}/keys/{selector}': {
    ok: async () => {
      const domain = await dkimDomain();
      await h.call('POST', `/api/dkim/${domain}/rotate`, { body: {} });
      const { body } = await h.call('GET', `/api/dkim/${domain}`);
      const old = (body.records as Array<{ selector: string; active: boolean }>).find((r) => !r.active)!;
      return { path: `/api/dkim/${domain}/keys/${old.selector}` };
    },
    status: 204,
    invalid: () => ({ path: '/api/dkim/not_a_domain/keys/mallard' }),
    unknown: async () => ({ path: `/api/dkim/${await dkimDomain()}/keys/nosuchselector` }),
  },
  'GET /api/sessions/{id}': {
    ok: async () => ({ path: `/api/sessions/${await newSession()}` }),
    status: 200,
    check: ({ body }) => expect(body).toMatchObject({ protocol: 'imap', user: null, secure: false }),
    invalid: () => ({ path: `/api/sessions/${LONG_ID}` }),
    unknown: () => ({ path: '/api/sessions/0000000000000000' }),
  },
  'DELETE /api/sessions/{id}': {
    ok: async () => ({ path: `/api/sessions/${await newSession()}` }),
    status: 204,
    invalid: () => ({ path: `/api/sessions/${LONG_ID}` }),
    unknown: () => ({ path: '/api/sessions/0000000000000000' }),
  },
  'GET /api/acme': {
    ok: async () => ({ path: '/api/acme' }),
    status: 200,
    check: ({ body }) => expect(body.directoryUrl).toMatch(/^https:/),
  },
  'POST /api/acme/issue': {
    ok: async () => {
      await acmeToPebble();
      return { path: '/api/acme/issue', body: { challenge: 'http-01' } };
    },
    status: 200,
    check: ({ body }) => expect(body.names).toEqual(['mail.example.test']),
    invalid: () => ({ path: '/api/acme/issue', body: { challenge: 'carrier-pigeon' } }),
  },
  'POST /api/acme/renew': {
    ok: async () => {
      await acmeToPebble();
      return { path: '/api/acme/renew', body: {} };
    },
    status: 200,
    invalid: () => ({ path: '/api/acme/renew', body: { force: 'yes' } }),
  },
  'POST /api/acme/confirm': {
    ok: async () => {
      await acmeToPebble();
      const waiting = await h.server.acme!.issue({ challenge: 'manual', wait: true });
      expect(waiting.state, waiting.lastError ?? '').toBe('waiting-for-dns');
      return { path: '/api/acme/confirm' };
    },
    status: 200,
    check: ({ body }) => expect(body.records.length).toBeGreaterThan(0),
  },
  'GET /api/certificates': {
    ok: async () => ({ path: '/api/certificates' }),
    status: 200,
    check: ({ body }) =>
      expect(body.certificates.some((c: { kind: string }) => c.kind === 'self-signed')).toBe(true),
  },
  'POST /api/certificates': {
    ok: async () => ({
      path: '/api/certificates',
      body: { type: 'server', names: ['mail.example.test', '192.0.2.1'], keyType: 'ecdsa' },
    }),
    status: 201,
    check: ({ body }) => {
      expect(body).toMatchObject({
        kind: 'server',
        names: ['mail.example.test', '192.0.2.1'],
        active: false,
      });
      expect(JSON.stringify(body)).not.toMatch(/PRIVATE KEY/);
    },
    invalid: () => ({ path: '/api/certificates', body: { type: 'server', names: [] } }),
  },
  'GET /api/certificates/authority.pem': {
    ok: async () => {
      await ensureAuthority();
      return { path: '/api/certificates/authority.pem' };
    },
    status: 200,
    check: ({ raw, headers }) => {
      expect(headers.get('content-type')).toBe('application/x-pem-file');
      expect(headers.get('content-disposition')).toBe('attachment; filename="mallard-ca.pem"');
      expect(raw.toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    },
  },
  'GET /api/certificates/authority.der': {
    ok: async () => {
      await ensureAuthority();
      return { path: '/api/certificates/authority.der' };
    },
    status: 200,
    check: ({ raw, headers }) => {
      expect(headers.get('content-type')).toBe('application/x-x509-ca-cert');
      expect(headers.get('content-disposition')).toBe('attachment; filename="mallard-ca.crt"');
      expect(raw[0]).toBe(0x30); // a DER SEQUENCE
    },
  },
  'GET /api/certificates/{id}': {
    ok: async () => ({ path: `/api/certificates/${h.server.tls.certificates.list()[0]!.id}` }),
    status: 200,
    invalid: () => ({ path: `/api/certificates/${LONG_ID}` }),
    unknown: () => ({ path: '/api/certificates/0123456789abcdef' }),
  },
  'POST /api/certificates/{id}/activate': {
    ok: async () => {
      const info = h.server.tls.certificates.issueServerCertificate({
        names: ['localhost'],
        keyType: 'ecdsa',
      });
      return { path: `/api/certificates/${info.id}/activate` };
    },
    status: 200,
    check: ({ body }) => expect(body.active).toBe(true),
    invalid: () => ({ path: `/api/certificates/${LONG_ID}/activate` }),
    unknown: () => ({ path: '/api/certificates/0123456789abcdef/activate' }),
  },
  'DELETE /api/certificates/{id}': {
    ok: async () => {
      const info = h.server.tls.certificates.issueServerCertificate({
        names: ['old.example.test'],
        keyType: 'ecdsa',
      });
      return { path: `/api/certificates/${info.id}` };
    },
    status: 204,
    invalid: () => ({ path: `/api/certificates/${LONG_ID}` }),
    unknown: () => ({ path: '/api/certificates/0123456789abcdef' }),
  },
  'GET /api/settings': {
    ok: async () => {
      h.server.config.acme.dns.tsig_secret = 'c2VjcmV0LXRzaWcta2V5';
      h.server.config.outbound.relay.password = 'relay-secret-pw';
      h.server.config.spam.rspamd_password = 'rspamd-secret-pw';
      return { path: '/api/settings' };
    },
    status: 200,
    check: ({ body }) => {
      expect(body).toMatchObject({ data_dir: h.dataDir, admin: { host: '127.0.0.1' } });
      // Secrets are masked: the ACME DNS update key, the relay's and rspamd's passwords.
      expect(body.acme.dns.tsig_secret).toBe('********');
      expect(body.outbound.relay.password).toBe('********');
      expect(body.spam.rspamd_password).toBe('********');
      for (const secret of ['c2VjcmV0LXRzaWcta2V5', 'relay-secret-pw', 'rspamd-secret-pw'])
        expect(JSON.stringify(body)).not.toContain(secret);
    },
  },
  'PUT /api/settings': {
    ok: async () => ({ path: '/api/settings', body: { limits: { max_message_size: 2_000_000 } } }),
    status: 200,
    check: ({ body }) =>
      expect(body).toMatchObject({
        restartRequired: true,
        settings: { limits: { max_message_size: 2_000_000 } },
      }),
    invalid: () => ({ path: '/api/settings', body: { imap: { port: -1 } } }),
  },
  'GET /api/setup': {
    ok: async () => ({ path: '/api/setup' }),
    status: 200,
    check: ({ body }) => {
      expect(body.steps).toEqual(['domains', 'public-name', 'accounts', 'certificate', 'dns']);
      expect(body.checks).toContainEqual(expect.objectContaining({ id: 'domains', ok: true }));
      expect(body.checks).toContainEqual(
        expect.objectContaining({ id: 'dns', title: expect.stringContaining('example.test') }),
      );
    },
  },
  'POST /api/setup': {
    ok: async () => ({ path: '/api/setup', body: { completed: true } }),
    status: 200,
    check: ({ body }) => expect(body).toMatchObject({ completed: true, firstRun: false }),
    invalid: () => ({ path: '/api/setup', body: { completed: 'yes' } }),
  },
  'GET /api/backups': {
    ok: async () => ({ path: '/api/backups' }),
    status: 200,
    check: ({ body }) => expect(body).toMatchObject({ configured: false, backups: [] }),
  },
  'POST /api/backups/run': {
    ok: async () => {
      h.server.config.backup.destination = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-api-backups-'));
      return { path: '/api/backups/run' };
    },
    status: 200,
    check: async ({ body }) => {
      expect(body.running).toBe(true);
      await expect
        .poll(async () => (await h.call('GET', '/api/backups')).body.last?.ok, { timeout: 30_000 })
        .toBe(true);
      fs.rmSync(h.server.config.backup.destination, { recursive: true, force: true });
      h.server.config.backup.destination = '';
    },
  },
  'POST /api/backups/restore': {
    ok: async () => {
      const destination = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-api-restore-'));
      h.server.config.backup.destination = destination;
      const user = await h.server.store.createUser({
        username: `${unique('restore')}@example.test`,
        passwordHash: 'x',
      });
      const inbox = (await h.server.store.getMailbox(user.id, 'INBOX'))!;
      await h.server.store.append(inbox.id, Buffer.from('Subject: kept\r\n\r\nbody\r\n'));
      const made = await runBackup(h.server.store, h.server.config, { passphrase: null });
      expect(made.error).toBeNull();
      await h.server.store.deleteMessages(inbox.id, [1]);
      return {
        path: '/api/backups/restore',
        body: { backup: path.basename(made.file!), user: user.username, mailbox: 'INBOX' },
      };
    },
    status: 200,
    check: async ({ body }) => {
      expect(body.restore).toMatchObject({ mailbox: 'INBOX', finishedAt: null });
      await expect
        .poll(async () => (await h.call('GET', '/api/backups')).body.restore?.phase, { timeout: 30_000 })
        .toBe('done');
      const done = (await h.call('GET', '/api/backups')).body.restore;
      expect(done.report.mailboxes).toEqual([
        { user: body.restore.user, path: 'INBOX', uids: 'new-uids', restored: 1, skipped: 0 },
      ]);
      const again = await h.call('POST', '/api/backups/restore', {
        body: { backup: 'nope.mbk', user: 'a@b.c' },
      });
      expect(again.status).toBe(404);
      fs.rmSync(h.server.config.backup.destination, { recursive: true, force: true });
      h.server.config.backup.destination = '';
    },
    invalid: () => ({ path: '/api/backups/restore', body: { backup: '', user: 'a@b.c' } }),
  },
  'POST /api/backups/restore/cancel': {
    ok: async () => {
      const destination = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-api-cancel-'));
      h.server.config.backup.destination = destination;
      const user = await h.server.store.createUser({
        username: `${unique('cancel')}@example.test`,
        passwordHash: 'x',
      });
      const inbox = (await h.server.store.getMailbox(user.id, 'INBOX'))!;
      // Enough mail that the restore is still verifying when the cancel arrives.
      for (let start = 0; start < 3000; start += 250) {
        const items = Array.from({ length: 250 }, (_, i) => ({
          raw: Buffer.from(`Subject: ${start + i}\r\n\r\n${randomBytes(3000).toString('base64')}\r\n`),
        }));
        await h.server.store.appendMany(inbox.id, items);
      }
      const made = await runBackup(h.server.store, h.server.config, { passphrase: null });
      expect(made.error).toBeNull();
      await h.server.store.deleteUser(user.id);
      const started = await h.call('POST', '/api/backups/restore', {
        body: { backup: path.basename(made.file!), user: user.username },
      });
      expect(started.status).toBe(200);
      return { path: '/api/backups/restore/cancel' };
    },
    status: 200,
    check: async ({ body }) => {
      expect(body.restore.phase).toBe('cancelling');
      await expect
        .poll(async () => (await h.call('GET', '/api/backups')).body.restore?.phase, { timeout: 60_000 })
        .toBe('cancelled');
      const cancelled = (await h.call('GET', '/api/backups')).body.restore;
      expect(cancelled.error).toMatch(/cancelled after \d+ messages/);
      expect(cancelled.report.messages).toBeLessThan(3000);
      const none = await h.call('POST', '/api/backups/restore/cancel');
      expect(none.status).toBe(404);
      fs.rmSync(h.server.config.backup.destination, { recursive: true, force: true });
      h.server.config.backup.destination = '';
    },
  },
  'GET /api/deliveries': {
    ok: async () => ({ path: '/api/deliveries?days=7' }),
    status: 200,
    check: ({ body }) => expect(body.days).toHaveLength(7),
    invalid: () => ({ path: '/api/deliveries?days=0' }),
  },
  'PUT /api/spam/settings': {
    ok: async () => ({ path: '/api/spam/settings', body: { junk_score: 7 } }),
    status: 200,
    check: ({ body }) => expect(body.spam).toMatchObject({ junk_score: 7 }),
    invalid: () => ({ path: '/api/spam/settings', body: { dnsbl: ['not a zone!'] } }),
  },
  'POST /api/spam/detect': {
    // Nothing listens on port 9: tried and reported as not found.
    ok: async () => ({ path: '/api/spam/detect', body: { url: 'http://127.0.0.1:9' } }),
    status: 200,
    check: ({ body }) => expect(body.found).toBe(false),
    invalid: () => ({ path: '/api/spam/detect', body: { url: 'ftp://x' } }),
  },
  'POST /api/store/test-connection': {
    // Nothing listens on port 1: a real attempt that fails, reported as ok: false.
    ok: async () => ({ path: '/api/store/test-connection', body: { uri: 'mongodb://127.0.0.1:1/mallard' } }),
    status: 200,
    check: ({ body }) =>
      expect(body).toMatchObject({ ok: false, detail: expect.stringMatching(/^cannot connect/) }),
    invalid: () => ({ path: '/api/store/test-connection', body: { uri: 'http://example.test' } }),
  },
  'GET /api/users/{id}/export': {
    ok: async () => ({ path: `/api/users/${userId}/export?format=mbox` }),
    status: 200,
    // a tar: whole 512-byte blocks
    check: ({ raw }) => expect(raw.length > 0 && raw.length % 512 === 0).toBe(true),
    invalid: () => ({ path: `/api/users/${userId}/export?format=zip` }),
    unknown: () => ({ path: '/api/users/999999/export?format=mbox' }),
  },
  'POST /api/users/{id}/imports': {
    ok: async () => ({
      path: `/api/users/${await h.addUser(`${unique('importer')}@example.test`, 'a long password')}/imports`,
      body: { host: '127.0.0.1', port: 9, security: 'plain', login: 'x', password: 'y' },
    }),
    status: 201,
    check: ({ body }) =>
      expect(body.source).toEqual({ host: '127.0.0.1', port: 9, security: 'plain', login: 'x' }),
    invalid: () => ({
      path: `/api/users/${userId}/imports`,
      body: { host: '127.0.0.1', port: 0, login: 'x', password: 'y' },
    }),
    unknown: () => ({ path: '/api/users/999999/imports', body: { host: 'h', login: 'x', password: 'y' } }),
  },
  'POST /api/users/{id}/imports/upload': {
    ok: async () => ({
      path: `/api/users/${await h.addUser(`${unique('uploader')}@example.test`, 'a long password')}/imports/upload?name=Inbox`,
      body: Buffer.from('From a@example.net Mon Mar  4 09:15:00 2024\nSubject: uploaded\n\nBody\n'),
    }),
    status: 201,
    check: ({ body }) =>
      expect(body).toMatchObject({ kind: 'file', source: null, file: { name: 'Inbox', bytes: 68 } }),
    invalid: () => ({ path: `/api/users/${userId}/imports/upload`, body: Buffer.from('From x') }),
    unknown: () => ({ path: '/api/users/999999/imports/upload?name=Inbox', body: Buffer.from('From x') }),
  },
  'GET /api/users/{id}/imports': {
    ok: async () => ({ path: `/api/users/${(await endedImportJob()).user}/imports` }),
    status: 200,
    check: ({ body }) => expect(body.jobs[0]).toMatchObject({ state: 'failed', passwordKept: true }),
    invalid: () => ({ path: `/api/users/${LONG_ID}/imports` }),
    unknown: () => ({ path: '/api/users/999999/imports' }),
  },
  'POST /api/imports/{jobId}/cancel': {
    ok: async () => ({ path: `/api/imports/${(await endedImportJob()).job}/cancel` }),
    status: 200,
    invalid: () => ({ path: `/api/imports/${'x'.repeat(101)}/cancel` }),
    unknown: () => ({ path: '/api/imports/no-such-job/cancel' }),
  },
  'POST /api/imports/{jobId}/rerun': {
    ok: async () => ({ path: `/api/imports/${(await endedImportJob()).job}/rerun`, body: {} }),
    status: 201,
    invalid: async () => ({
      path: `/api/imports/${(await endedImportJob()).job}/rerun`,
      body: { password: 5 },
    }),
    unknown: () => ({ path: '/api/imports/no-such-job/rerun', body: {} }),
  },
  'DELETE /api/imports/{jobId}': {
    ok: async () => ({ path: `/api/imports/${(await endedImportJob()).job}` }),
    status: 204,
    invalid: () => ({ path: `/api/imports/${'x'.repeat(101)}` }),
    unknown: () => ({ path: '/api/imports/no-such-job' }),
  },
  'GET /api/logs': {
    ok: async () => ({ path: '/api/logs?lines=5' }),
    status: 200,
    check: ({ body }) => expect(Array.isArray(body.lines)).toBe(true),
    invalid: () => ({ path: '/api/logs?lines=0' }),
  },
  'GET /api/openapi.json': {
    ok: async () => ({ path: '/api/openapi.json' }),
    status: 200,
    check: ({ body }) => expect(body.openapi).toBe('3.1.0'),
  },
};

/** A concrete path for a route template, for the calls that never reach the handler. */
const anyPath = (template: string) => template.replace(/\{[^}]+\}/g, 'x');

async function send(method: string, request: Request, token?: string | null): Promise<ApiResult> {
  return h.call(method, request.path, { body: request.body, token });
}

describe('the route table', () => {
  it('has a test case for every route, and no case without a route', () => {
    const routes = ROUTES.map((route) => `${route.method} ${route.path}`).sort();
    expect(Object.keys(CASES).sort()).toEqual(routes);
  });

  it('has invalid and unknown-id cases wherever a route takes input or ids', () => {
    for (const route of ROUTES) {
      const key = `${route.method} ${route.path}`;
      if (route.params || route.query || route.body) expect(CASES[key]!.invalid, key).toBeDefined();
      if (route.params) expect(CASES[key]!.unknown, key).toBeDefined();
    }
  });
});

describe.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
  '%s',
  (key, route) => {
    const testCase = CASES[key]!;

    it('succeeds, answering what its schema says', async () => {
      const result = await send(route.method, await testCase.ok());
      expect(result.status, JSON.stringify(result.body)).toBe(testCase.status);
      if ('schema' in route.response) route.response.schema.parse(result.body);
      if (testCase.status === 204) expect(result.raw.length).toBe(0);
      await testCase.check?.(result);
    });

    it('refuses a request without a token, or with a wrong one', async () => {
      for (const token of [null, 'wrong-token']) {
        const body = route.method === 'GET' ? undefined : {};
        const result = await send(route.method, { path: anyPath(route.path), body }, token);
        expect(result.status).toBe(401);
        expect(errorSchema.parse(result.body).error.code).toBe('unauthorized');
      }
    });

    // Only where the route takes input (the table test above checks a case exists then).
    if (testCase.invalid) {
      const invalid = testCase.invalid;
      it('refuses invalid input with validation_failed', async () => {
        const result = await send(route.method, await invalid());
        expect(result.status, JSON.stringify(result.body)).toBe(400);
        const { error } = errorSchema.parse(result.body);
        expect(error.code).toBe('validation_failed');
        expect(error.message).toMatch(/\S/);
      });
    }

    if (testCase.unknown) {
      const unknown = testCase.unknown;
      it('answers not_found for an unknown id', async () => {
        const result = await send(route.method, await unknown());
        expect(result.status, JSON.stringify(result.body)).toBe(404);
        expect(errorSchema.parse(result.body).error.code).toBe('not_found');
      });
    }
  },
);

describe('errors and edge cases', () => {
  it('answers unknown paths with not_found and wrong methods with method_not_allowed', async () => {
    const missing = await h.call('GET', '/api/nothing');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const wrongMethod = await h.call('PUT', '/api/users');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error.code).toBe('method_not_allowed');
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
  });

  it('refuses malformed JSON, non-JSON bodies and unknown fields', async () => {
    const response = await fetch(`${h.url}/api/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
      body: '{"username":',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as z.infer<typeof errorSchema>).error.message).toMatch(/not valid JSON/);
    const text = await fetch(`${h.url}/api/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'text/plain' },
      body: 'username=x',
    });
    expect(text.status).toBe(400);
    const extra = await h.call('PATCH', `/api/users/${userId}`, { body: { nmae: 'typo' } });
    expect(extra.status).toBe(400);
    expect(extra.body.error.issues[0].path).toBe('body');
  });

  it('leaves nothing half-done when a request fails', async () => {
    const before = await h.call('GET', `/api/users/${userId}`);
    const refused = await h.call('PATCH', `/api/users/${userId}`, {
      body: { name: 'Should not stick', quotaBytes: 1.5 },
    });
    expect(refused.status).toBe(400);
    const after = await h.call('GET', `/api/users/${userId}`);
    expect(after.body.name).toBe(before.body.name);
    const duplicate = await h.call('POST', '/api/users', {
      body: { username: 'alice@example.test', password: 'another password' },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('conflict');
    expect((await h.call('GET', '/api/users?search=alice')).body.total).toBe(1);
  });

  it('adds domains with readable refusals: invalid_domain, domain_exists', async () => {
    const invalid = await h.call('POST', '/api/domains', { body: { name: 'mail' } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({
      code: 'invalid_domain',
      message: expect.stringMatching(/dot/),
    });
    const idn = await h.call('POST', '/api/domains', { body: { name: 'Bücher.example' } });
    expect(idn.body.domain.name).toBe('xn--bcher-kva.example');
    const again = await h.call('POST', '/api/domains', { body: { name: 'BÜCHER.example' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('domain_exists');
  });

  it('refuses users and aliases in a domain that is not local (unknown_domain)', async () => {
    const user = await h.call('POST', '/api/users', {
      body: { username: 'eve@elsewhere.example', password: 'a long password' },
    });
    expect(user.status).toBe(400);
    expect(user.body.error.code).toBe('unknown_domain');
    expect(user.body.error.message).toContain('mallard domain add elsewhere.example');
    const alias = await h.call('POST', `/api/users/${userId}/aliases`, {
      body: { address: 'x@elsewhere.example' },
    });
    expect(alias.status).toBe(400);
    expect(alias.body.error.code).toBe('unknown_domain');
    await h.call('POST', '/api/domains', { body: { name: 'elsewhere.example' } });
    const now = await h.call('POST', `/api/users/${userId}/aliases`, {
      body: { address: 'x@elsewhere.example' },
    });
    expect(now.status).toBe(201);
    // In use by one alias: removing the domain is refused, saying so.
    const refused = await h.call('DELETE', '/api/domains/elsewhere.example');
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('1 alias');
    await h.call('DELETE', `/api/users/${userId}/aliases/x%40elsewhere.example`);
    expect((await h.call('DELETE', '/api/domains/elsewhere.example')).status).toBe(204);
  });

  it("sets a domain's catch-all, which then receives mail to unknown names", async () => {
    const set = await h.call('PATCH', '/api/domains/example.test', {
      body: { catchAll: 'alice@example.test' },
    });
    expect(set.body.domain.catchAll).toBe('alice@example.test');
    expect((await h.server.store.resolveRecipient('whoever@example.test'))?.id).toBe(userId);
    const nobody = await h.call('PATCH', '/api/domains/example.test', {
      body: { catchAll: 'ghost@example.test' },
    });
    expect(nobody.status).toBe(404);
    const cleared = await h.call('PATCH', '/api/domains/example.test', { body: { catchAll: '' } });
    expect(cleared.body.domain.catchAll).toBeNull();
    expect(await h.server.store.resolveRecipient('whoever@example.test')).toBeNull();
  });

  it('refuses to remove a primary address (conflict)', async () => {
    const result = await h.call('DELETE', `/api/users/${userId}/aliases/alice%40example.test`);
    expect(result.status).toBe(409);
    expect(result.body.error.code).toBe('conflict');
  });

  it('refuses an imported certificate whose key does not match', async () => {
    const certificates = h.server.tls.certificates;
    const a = certificates.issueServerCertificate({ names: ['a.example.test'], keyType: 'ecdsa' });
    const b = await h.call('POST', '/api/certificates', {
      body: { type: 'server', names: ['b.example.test'], keyType: 'ecdsa' },
    });
    const certPem = readCertPem(a.id);
    const keyPem = readKeyPem(b.body.id as string);
    const result = await h.call('POST', '/api/certificates', { body: { type: 'import', certPem, keyPem } });
    expect(result.status).toBe(400);
    expect(result.body.error.message).toMatch(/does not match/);
  });
});

/** Stored files of the certificate store (a test may read a key; the API never returns one). */
function readCertPem(id: string): string {
  return fs.readFileSync(`${h.dataDir}/tls/${id}.crt`, 'utf8');
}
function readKeyPem(id: string): string {
  return fs.readFileSync(`${h.dataDir}/tls/${id}.key`, 'utf8');
}

describe('users end to end', () => {
  it('creates a user with a generated password that logs in over IMAP, and an app password that does too', async () => {
    const created = await h.call('POST', '/api/users', {
      body: { username: 'bob@example.test', generate: true, quotaBytes: 5_000_000 },
    });
    expect(created.status).toBe(201);
    const client = await LineClient.connect(h.imapPort);
    clients.push(client);
    await client.readUntil(/^\* OK/);
    expect(await client.command('a', `LOGIN bob@example.test "${created.body.password as string}"`)).toMatch(
      /^a OK/m,
    );
    const app = await h.call('POST', `/api/users/${created.body.user.id as string}/app-passwords`, {
      body: { label: 'Mail' },
    });
    const second = await LineClient.connect(h.imapPort);
    clients.push(second);
    await second.readUntil(/^\* OK/);
    expect(await second.command('b', `LOGIN bob@example.test "${app.body.secret as string}"`)).toMatch(
      /^b OK/m,
    );
    const listed = await h.call('GET', `/api/users/${created.body.user.id as string}/app-passwords`);
    expect(listed.body.appPasswords[0].lastUsedAt).not.toBeNull();
  });

  it('changes a password, and disabling a user ends its sessions', async () => {
    const id = await h.addUser('carol@example.test', 'first password');
    const changed = await h.call('PATCH', `/api/users/${id}`, { body: { password: 'second password' } });
    expect(changed.status).toBe(200);
    const client = await LineClient.connect(h.imapPort);
    clients.push(client);
    await client.readUntil(/^\* OK/);
    expect(await client.command('a', 'LOGIN carol@example.test "first password"')).toMatch(/^a NO/m);
    expect(await client.command('b', 'LOGIN carol@example.test "second password"')).toMatch(/^b OK/m);
    const disabled = await h.call('PATCH', `/api/users/${id}`, { body: { disabled: true } });
    expect(disabled.body.disabled).toBe(true);
    expect(await client.readUntil(/^\* BYE/)).toMatch(/Account disabled/);
  });
});

describe('Sieve scripts within the limits ManageSieve has', () => {
  it('refuses a script larger than managesieve.max_script_size (400) and one script too many (409)', async () => {
    const id = await h.addUser('sieve-limits@example.test', 'a long password');
    const limits = h.server.config.managesieve;
    const large = `# ${'x'.repeat(limits.max_script_size)}\nkeep;\n`;
    const tooLarge = await h.call('PUT', `/api/users/${id}/sieve-scripts/large`, {
      body: { content: large },
    });
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body.error.message).toBe(`The script is larger than ${limits.max_script_size} bytes`);
    for (let n = 0; n < limits.max_scripts; n++) {
      const put = await h.call('PUT', `/api/users/${id}/sieve-scripts/s${n}`, { body: { content: 'keep;' } });
      expect(put.status).toBe(200);
    }
    const oneMore = await h.call('PUT', `/api/users/${id}/sieve-scripts/extra`, {
      body: { content: 'keep;' },
    });
    expect(oneMore.status).toBe(409);
    expect(oneMore.body.error.message).toBe(`No more than ${limits.max_scripts} scripts may be kept`);
    // A new version of a script the user has is not one more.
    const replaced = await h.call('PUT', `/api/users/${id}/sieve-scripts/s0`, {
      body: { content: 'discard;' },
    });
    expect(replaced.status).toBe(200);
    expect(await h.server.store.listSieveScripts(id)).toHaveLength(limits.max_scripts);
  });
});
