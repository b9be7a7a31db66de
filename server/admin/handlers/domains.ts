/**
 * Mail domains as records of their own: list, add, per-domain catch-all and DKIM switch, remove
 * (refused while users or aliases are in it), the DNS records to publish and a check of what the
 * configured resolver finds for them.
 */
import { missingLocalDomain } from '../../smtp/local-domains.ts';
import { z } from 'zod';
import { checkRecords, checkResolver } from '../../dns/check.ts';
import { publishedRecords } from '../../dns/records.ts';
import { domainProblem } from '../../store/domains.ts';
import { isStoreError } from '../../store/errors.ts';
import type { Domain, Store } from '../../store/types.ts';
import { ApiError, notFound } from '../errors.ts';
import { markDnsChecked } from '../../setup/state.ts';
import { route } from '../router.ts';
import { domainListItemSchema, domainSchema, type DomainJson } from '../schemas.ts';

const TAG = 'Domains';

const nameParams = z.object({ name: z.string().min(1).max(253) });

const PURPOSES = [
  'MX',
  'SPF',
  'DKIM',
  'DMARC',
  'MTA-STS',
  'TLS-RPT',
  'SRV',
  'AUTOCONFIG',
  'AUTODISCOVER',
] as const;

const dnsRecordSchema = z
  .object({
    purpose: z.enum(PURPOSES),
    name: z.string().describe('owner name, without the final dot'),
    type: z.enum(['MX', 'TXT', 'SRV', 'CNAME']),
    value: z.string().describe('as it goes into the zone (TXT without quotes)'),
  })
  .meta({ id: 'DomainDnsRecord' });

const recordCheckSchema = z
  .object({
    purpose: z.enum([...PURPOSES, 'PTR']),
    name: z.string(),
    type: z.enum(['MX', 'TXT', 'SRV', 'CNAME', 'PTR']),
    expected: z.string(),
    found: z.array(z.string()).describe('what the resolver answered'),
    status: z.enum(['ok', 'missing', 'wrong']),
    hint: z.string().describe('what to do about it ("" when ok)'),
  })
  .meta({ id: 'DnsCheck' });

export function domainJson(domain: Domain): DomainJson {
  return {
    name: domain.name,
    catchAll: domain.catchAll,
    dkim: domain.dkim,
    createdAt: domain.createdAt.toISOString(),
  };
}

export async function requireDomain(store: Store, name: string): Promise<Domain> {
  const domain = await store.getDomain(name);
  if (!domain) throw notFound(`domain ${name.toLowerCase()}`);
  return domain;
}

/**
 * Users and aliases go only into local domains: 400 unknown_domain for any other, naming the way
 * to add it. A bare user name (no "@") has no domain.
 */
export async function requireLocalDomainOf(store: Store, address: string): Promise<void> {
  const domain = await missingLocalDomain(store, address);
  if (domain === null) return;
  throw new ApiError(
    'unknown_domain',
    `${domain} is not a local domain: add it first (Domains page, or mallard domain add ${domain})`,
  );
}

export const domainRoutes = [
  route({
    method: 'GET',
    path: '/api/domains',
    operationId: 'listDomains',
    summary: 'List the mail domains',
    tag: TAG,
    response: {
      status: 200,
      schema: z.object({ domains: z.array(domainListItemSchema) }),
      description: 'The domains, sorted by name, each with how many users and aliases it has',
    },
    async handler({ deps }) {
      const listed = await Promise.all(
        (await deps.store.listDomains()).map(async (domain) => {
          // A domain removed meanwhile (NONEXISTENT) is left out rather than failing the list.
          const usage = await deps.store.domainUsage(domain.name).catch((error: unknown) => {
            if (isStoreError(error) && error.code === 'NONEXISTENT') return null;
            throw error;
          });
          return usage && { ...domainJson(domain), ...usage };
        }),
      );
      return { domains: listed.filter((domain) => domain !== null) };
    },
  }),

  route({
    method: 'POST',
    path: '/api/domains',
    operationId: 'createDomain',
    summary: 'Add a mail domain',
    description:
      'An internationalised name is stored as its A-label (xn--…). 400 invalid_domain, 409 domain_exists.',
    tag: TAG,
    body: z.strictObject({ name: z.string().max(300) }),
    response: { status: 201, schema: z.object({ domain: domainSchema }), description: 'The new domain' },
    async handler({ body, deps }) {
      const problem = domainProblem(body.name);
      if (problem) throw new ApiError('invalid_domain', problem);
      try {
        const domain = await deps.store.createDomain({ name: body.name });
        deps.logger.info({ domain: domain.name, via: 'admin' }, 'domain added');
        return { domain: domainJson(domain) };
      } catch (error) {
        if (isStoreError(error) && error.code === 'ALREADYEXISTS')
          throw new ApiError('domain_exists', error.message);
        throw error;
      }
    },
  }),

  route({
    method: 'GET',
    path: '/api/domains/{name}',
    operationId: 'getDomain',
    summary: 'Show a mail domain',
    tag: TAG,
    params: nameParams,
    response: { status: 200, schema: z.object({ domain: domainSchema }), description: 'The domain' },
    async handler({ params, deps }) {
      return { domain: domainJson(await requireDomain(deps.store, params.name)) };
    },
  }),

  route({
    method: 'PATCH',
    path: '/api/domains/{name}',
    operationId: 'updateDomain',
    summary: "Set a domain's catch-all (a user's address, or null) and DKIM signing",
    tag: TAG,
    params: nameParams,
    body: z.strictObject({
      catchAll: z.string().trim().max(254).nullable().optional(),
      dkim: z.boolean().optional(),
    }),
    response: { status: 200, schema: z.object({ domain: domainSchema }), description: 'The domain' },
    async handler({ params, body, deps }) {
      const { name } = await requireDomain(deps.store, params.name);
      // "" from a cleared form field means no catch-all.
      const catchAll = body.catchAll === '' ? null : body.catchAll;
      const domain = await deps.store.updateDomain(name, { catchAll, dkim: body.dkim });
      deps.logger.info({ domain: name, catchAll, dkim: body.dkim, via: 'admin' }, 'domain changed');
      return { domain: domainJson(domain) };
    },
  }),

  route({
    method: 'DELETE',
    path: '/api/domains/{name}',
    operationId: 'deleteDomain',
    summary: 'Remove a mail domain',
    description: '409 while users or aliases are in it (the message says how many).',
    tag: TAG,
    params: nameParams,
    response: { status: 204, description: 'Removed' },
    async handler({ params, deps }) {
      const { name } = await requireDomain(deps.store, params.name);
      await deps.store.deleteDomain(name);
      deps.logger.info({ domain: name, via: 'admin' }, 'domain removed');
    },
  }),

  route({
    method: 'GET',
    path: '/api/domains/{name}/dns',
    operationId: 'getDomainDns',
    summary: 'The DNS records the domain publishes, ready to copy',
    description:
      'MX, SPF, DKIM (every published key, when signing is on), DMARC, MTA-STS, TLS-RPT, the RFC 6186 SRV records and the autoconfig/autodiscover names.',
    tag: TAG,
    params: nameParams,
    response: {
      status: 200,
      schema: z.object({ domain: z.string(), hostname: z.string(), records: z.array(dnsRecordSchema) }),
      description: 'The records',
    },
    async handler({ params, deps }) {
      const domain = await requireDomain(deps.store, params.name);
      return {
        domain: domain.name,
        hostname: deps.config.hostname,
        records: publishedRecords(deps.config, domain),
      };
    },
  }),

  route({
    method: 'POST',
    path: '/api/domains/{name}/dns-check',
    operationId: 'checkDomainDns',
    summary: 'Check DNS: what the configured resolver finds for each record, with a hint for each problem',
    description: "Also the reverse name (PTR) of the host name's addresses.",
    tag: TAG,
    params: nameParams,
    response: {
      status: 200,
      schema: z.object({ domain: z.string(), ok: z.boolean(), checks: z.array(recordCheckSchema) }),
      description: 'One verdict per record',
    },
    async handler({ params, deps }) {
      const domain = await requireDomain(deps.store, params.name);
      const resolver = checkResolver(deps.config.dns.servers);
      const checks = await checkRecords(
        resolver,
        publishedRecords(deps.config, domain),
        deps.config.hostname,
      );
      const ok = checks.every((check) => check.status === 'ok');
      // The dashboard's "DNS not checked" list reads the last outcome (server/setup/state.ts).
      markDnsChecked(deps.config.data_dir, domain.name, ok);
      return { domain: domain.name, ok, checks };
    },
  }),
];
