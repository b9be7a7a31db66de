/**
 * DKIM keys per domain (server/outbound/dkim.ts), as `mallard dkim` manages them: the records to
 * publish, rotation to a new selector (rsa, or ed25519 signing beside it), and retiring a key that
 * was rotated out. Keys live in the data directory, which every process of this server shares.
 */
import { z } from 'zod';
import { DkimKeys } from '../../outbound/dkim.ts';
import { LocalDomains } from '../../smtp/local-domains.ts';
import type { AdminDeps } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { route } from '../router.ts';

const TAG = 'DKIM';

const domainParam = z
  .string()
  .max(253)
  .regex(
    /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/,
    'a domain name',
  );

const recordSchema = z
  .object({
    selector: z.string(),
    algorithm: z.enum(['rsa', 'ed25519']),
    active: z.boolean().describe('signs outgoing mail; false: rotated out, still published until retired'),
    name: z.string().describe('the DNS name of the TXT record'),
    value: z.string().describe('the TXT value'),
  })
  .meta({ id: 'DkimRecord' });

const recordsSchema = z.object({ domain: z.string(), records: z.array(recordSchema) });

/** The keys of a domain this server serves (some address in it); 404 for any other. */
async function keysOf(deps: AdminDeps, domain: string): Promise<DkimKeys> {
  // Read afresh (no cache): a domain added a moment ago in the panel counts.
  if (!(await new LocalDomains(deps.store, deps.config.hostname, 0).has(domain))) {
    throw notFound(`local domain ${domain}`);
  }
  return new DkimKeys(deps.config.data_dir, deps.config.dkim.selector);
}

function recordsOf(keys: DkimKeys, domain: string): z.infer<typeof recordsSchema> {
  return {
    domain: domain.toLowerCase(),
    records: keys.dnsRecords(domain).map(({ selector, algorithm, active, name, value }) => ({
      selector,
      algorithm,
      active,
      name,
      value,
    })),
  };
}

const dnsRecordSchema = z.object({
  purpose: z.enum(['MX', 'SPF', 'DKIM', 'DMARC']),
  name: z.string(),
  type: z.enum(['MX', 'TXT']),
  value: z.string().describe('as it goes into the zone (TXT without quotes)'),
});

const dnsRecordsSchema = z
  .object({
    hostname: z.string(),
    relay: z.string().describe('the relay host when mail goes out through one ("" for direct)'),
    domains: z.array(z.object({ domain: z.string(), records: z.array(dnsRecordSchema) })),
  })
  .meta({ id: 'DnsRecords' });

export const dkimRoutes = [
  route({
    method: 'GET',
    path: '/api/dns-records',
    operationId: 'getDnsRecords',
    summary: 'The DNS records sending needs, per local domain: MX, SPF, DKIM (every key) and DMARC',
    tag: TAG,
    response: { status: 200, schema: dnsRecordsSchema, description: 'Records to publish, ready to copy' },
    async handler({ deps }) {
      const { hostname } = deps.config;
      const keys = new DkimKeys(deps.config.data_dir, deps.config.dkim.selector);
      const domains = await new LocalDomains(deps.store, hostname, 0).mailDomains();
      return {
        hostname,
        relay: deps.config.outbound.relay.host,
        domains: domains.map((domain) => ({
          domain,
          records: [
            { purpose: 'MX' as const, name: domain, type: 'MX' as const, value: `10 ${hostname}.` },
            // Through a relay the relay's own SPF include belongs here too (README: DNS records).
            { purpose: 'SPF' as const, name: domain, type: 'TXT' as const, value: 'v=spf1 mx -all' },
            ...keys.dnsRecords(domain).map((record) => ({
              purpose: 'DKIM' as const,
              name: record.name,
              type: 'TXT' as const,
              value: record.value,
            })),
            {
              purpose: 'DMARC' as const,
              name: `_dmarc.${domain}`,
              type: 'TXT' as const,
              value: `v=DMARC1; p=quarantine; rua=mailto:postmaster@${domain}`,
            },
          ],
        })),
      };
    },
  }),

  route({
    method: 'GET',
    path: '/api/dkim/{domain}',
    operationId: 'getDkimRecords',
    summary: "The DNS TXT records of a local domain's DKIM keys (the first key is made on first use)",
    tag: TAG,
    params: z.object({ domain: domainParam }),
    response: { status: 200, schema: recordsSchema, description: 'Records to publish' },
    async handler({ params: { domain }, deps }) {
      return recordsOf(await keysOf(deps, domain), domain);
    },
  }),

  route({
    method: 'POST',
    path: '/api/dkim/{domain}/rotate',
    operationId: 'rotateDkimKey',
    summary: 'A new key under a new selector signs from now on; the one it replaces stays published',
    tag: TAG,
    params: z.object({ domain: domainParam }),
    body: z.object({ algorithm: z.enum(['rsa', 'ed25519']).default('rsa') }),
    response: { status: 200, schema: recordsSchema, description: 'Records to publish, the new one included' },
    async handler({ params: { domain }, body, deps }) {
      const keys = await keysOf(deps, domain);
      const key = keys.rotate(domain, body.algorithm);
      deps.logger.info(
        { domain, selector: key.selector, algorithm: key.algorithm, via: 'admin' },
        'DKIM key rotated',
      );
      return recordsOf(keys, domain);
    },
  }),

  route({
    method: 'DELETE',
    path: '/api/dkim/{domain}/keys/{selector}',
    operationId: 'retireDkimKey',
    summary: 'Remove a key that was rotated out (an active key cannot be retired: 409)',
    tag: TAG,
    params: z.object({ domain: domainParam, selector: z.string().regex(/^[a-z0-9-]{1,63}$/i) }),
    response: { status: 204, description: 'Retired' },
    async handler({ params: { domain, selector }, deps }) {
      const keys = await keysOf(deps, domain);
      const key = keys.keys(domain).find((entry) => entry.selector === selector);
      if (!key) throw new ApiError('not_found', `no DKIM key ${selector} for ${domain}`);
      if (key.active) throw new ApiError('conflict', `${selector} signs ${domain}'s mail; rotate first`);
      keys.retire(domain, selector);
      deps.logger.info({ domain, selector, via: 'admin' }, 'DKIM key retired');
    },
  }),
];
