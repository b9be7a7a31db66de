/**
 * Connection rules: list (with per-rule verdict counters of this process), create, update,
 * reorder, delete, and a dry run for an address. The store validates what each kind needs
 * (server/store/rules.ts); its refusals come back as validation_failed. After a change the rules
 * in force are reloaded at once instead of at the next poll.
 */
import net from 'node:net';
import { z } from 'zod';
import type { RuleDecision } from '../../hooks/runner.ts';
import { CONNECTION_RULE_KINDS, RULE_PROTOCOLS, type ConnectionRule } from '../../store/types.ts';
import type { AdminDeps } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { route } from '../router.ts';
import { protocolSchema, ruleSchema, ruleTestSchema, type RuleJson } from '../schemas.ts';
import { idParam } from './common.ts';

const TAG = 'Rules';

const kind = z.enum(CONNECTION_RULE_KINDS as [string, ...string[]]);
const fields = {
  cidrs: z.array(z.string().max(100)).max(10_000).describe('allow, deny: addresses and CIDR ranges'),
  limit: z
    .number()
    .int()
    .nullable()
    .describe('max-conn: connections; rate: connections per minute; lockout: failures'),
  windowSeconds: z.number().int().nullable().describe('lockout: the window failures are counted in'),
  protocols: z.array(z.enum(RULE_PROTOCOLS as [string, ...string[]])).describe('empty: every protocol'),
  enabled: z.boolean(),
  note: z.string().max(1000),
};
const position = z.number().int().min(1).describe('1-based; past the end appends');
const ruleParams = z.object({ id: idParam });

type Kind = ConnectionRule['kind'];
type Protocols = ConnectionRule['protocols'];

function ruleJson(deps: AdminDeps, rule: ConnectionRule, counters = deps.rules?.counters()): RuleJson {
  return {
    id: rule.id,
    position: rule.position,
    kind: rule.kind,
    cidrs: rule.cidrs,
    limit: rule.limit,
    windowSeconds: rule.windowSeconds,
    protocols: rule.protocols,
    enabled: rule.enabled,
    note: rule.note,
    createdAt: rule.createdAt.toISOString(),
    updatedAt: rule.updatedAt.toISOString(),
    counters: counters?.get(rule.id) ?? { allow: 0, deny: 0, errors: 0 },
  };
}

/** Applies a change now; a failed reload is logged (the poll retries), the change stands. */
async function reload(deps: AdminDeps): Promise<void> {
  try {
    await deps.rules?.reload();
    // Every worker decides with the new rules from the next connection on ("changes apply at once").
    await deps.rulesChanged?.();
  } catch (error) {
    deps.logger.warn({ err: error }, 'cannot reload connection rules after a change');
  }
}

async function requireRule(deps: AdminDeps, id: string): Promise<ConnectionRule> {
  const rule = (await deps.store.listRules()).find((candidate) => candidate.id === id);
  if (!rule) throw notFound(`rule ${id}`);
  return rule;
}

function decisionJson(decision: RuleDecision) {
  return {
    allow: decision.allow,
    ruleId: decision.rule?.id ?? null,
    reason: decision.reason,
    error: decision.error,
  };
}

export const ruleRoutes = [
  route({
    method: 'GET',
    path: '/api/rules',
    operationId: 'listRules',
    summary: 'List connection rules in order, with verdict counters',
    tag: TAG,
    response: {
      status: 200,
      schema: z.object({ rules: z.array(ruleSchema) }),
      description: 'The rules, first decisive rule wins',
    },
    async handler({ deps }) {
      const rules = await deps.store.listRules();
      const counters = deps.totals ? (await deps.totals()).rules : deps.rules?.counters();
      return { rules: rules.map((rule) => ruleJson(deps, rule, counters)) };
    },
  }),

  route({
    method: 'POST',
    path: '/api/rules',
    operationId: 'createRule',
    summary: 'Create a connection rule',
    tag: TAG,
    body: z.strictObject({
      kind,
      cidrs: fields.cidrs.optional(),
      limit: fields.limit.optional(),
      windowSeconds: fields.windowSeconds.optional(),
      protocols: fields.protocols.optional(),
      enabled: fields.enabled.optional(),
      note: fields.note.optional(),
      position: position.optional(),
    }),
    response: { status: 201, schema: ruleSchema, description: 'The new rule' },
    async handler({ body, deps }) {
      const rule = await deps.store.createRule({
        ...body,
        kind: body.kind as Kind,
        protocols: body.protocols as Protocols | undefined,
      });
      deps.logger.info({ rule: rule.id, kind: rule.kind, via: 'admin' }, 'connection rule created');
      await reload(deps);
      return ruleJson(deps, rule);
    },
  }),

  route({
    method: 'POST',
    path: '/api/rules/test',
    operationId: 'testRules',
    summary: 'Dry run: what the rules would decide for an address',
    description:
      'The verdict a new connection from `address` would get now, and a login on it (without TLS ' +
      'unless `secure`). Records nothing.',
    tag: TAG,
    body: z.strictObject({
      address: z
        .string()
        .trim()
        .refine((value) => net.isIP(value) !== 0, 'an IPv4 or IPv6 address'),
      protocol: protocolSchema.default('imap'),
      secure: z.boolean().optional(),
      username: z.string().max(254).optional(),
    }),
    response: { status: 200, schema: ruleTestSchema, description: 'The verdicts' },
    async handler({ body, deps }) {
      if (!deps.rules) {
        throw new ApiError(
          'not_implemented',
          'connection rules are not in use: the server runs custom hooks',
        );
      }
      const result = await deps.rules.test(body.address, body.protocol, {
        secure: body.secure,
        username: body.username,
      });
      return {
        address: result.address,
        protocol: result.protocol,
        connect: decisionJson(result.connect),
        auth: decisionJson(result.auth),
      };
    },
  }),

  route({
    method: 'PATCH',
    path: '/api/rules/{id}',
    operationId: 'updateRule',
    summary: 'Update a connection rule',
    description: 'The result is validated as a whole: a new kind needs its values.',
    tag: TAG,
    params: ruleParams,
    body: z.strictObject({
      kind: kind.optional(),
      cidrs: fields.cidrs.optional(),
      limit: fields.limit.optional(),
      windowSeconds: fields.windowSeconds.optional(),
      protocols: fields.protocols.optional(),
      enabled: fields.enabled.optional(),
      note: fields.note.optional(),
    }),
    response: { status: 200, schema: ruleSchema, description: 'The updated rule' },
    async handler({ params, body, deps }) {
      await requireRule(deps, params.id);
      const rule = await deps.store.updateRule(params.id, {
        ...body,
        kind: body.kind as Kind | undefined,
        protocols: body.protocols as Protocols | undefined,
      });
      deps.logger.info({ rule: rule.id, kind: rule.kind, via: 'admin' }, 'connection rule updated');
      await reload(deps);
      return ruleJson(deps, rule);
    },
  }),

  route({
    method: 'DELETE',
    path: '/api/rules/{id}',
    operationId: 'deleteRule',
    summary: 'Delete a connection rule',
    tag: TAG,
    params: ruleParams,
    response: { status: 204, description: 'Deleted; the rules after it move up' },
    async handler({ params, deps }) {
      await requireRule(deps, params.id);
      await deps.store.deleteRule(params.id);
      deps.logger.info({ rule: params.id, via: 'admin' }, 'connection rule deleted');
      await reload(deps);
    },
  }),

  route({
    method: 'POST',
    path: '/api/rules/{id}/move',
    operationId: 'moveRule',
    summary: 'Move a connection rule to another position',
    tag: TAG,
    params: ruleParams,
    body: z.strictObject({ position: position.describe('1-based; clamped to the number of rules') }),
    response: { status: 200, schema: ruleSchema, description: 'The moved rule' },
    async handler({ params, body, deps }) {
      await requireRule(deps, params.id);
      const rule = await deps.store.moveRule(params.id, body.position);
      deps.logger.info({ rule: rule.id, position: rule.position, via: 'admin' }, 'connection rule moved');
      await reload(deps);
      return ruleJson(deps, rule);
    },
  }),
];
