/**
 * MTA-STS (RFC 8461) for direct delivery: a domain that publishes `_mta-sts.DOMAIN` TXT and a
 * policy at https://mta-sts.DOMAIN/.well-known/mta-sts.txt says which MX hosts are genuine and that
 * they must be reached over TLS with a valid certificate. mailauth's module (by the WildDuck/ZoneMTA
 * authors) finds the policy id, parses the policy and matches MX names; the HTTPS fetch is ours so
 * that the port and the trusted CA can be set (`outbound.mta_sts.*`: loopback tests with a CA of
 * their own). Policies are cached for their max_age and refetched when the TXT id changes; when the
 * domain cannot be asked, a cached policy that has not expired still applies (RFC 8461 5.1). The
 * cache is kept in the store (every process, and across restarts) with a copy in memory.
 */
import fs from 'node:fs';
import https from 'node:https';
import type { MTASTSPolicy } from 'mailauth';
import { authLookup, type MailResolver } from '../dns/resolver.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';

const MAX_POLICY_BYTES = 64 * 1024;
const FETCH_TIMEOUT_MS = 15_000;

export interface MtaStsOptions {
  servers: readonly string[];
  /** Port of the policy host (443 but in tests). */
  port: number;
  /** PEM file of CAs to trust instead of the system's, for the policy host and the MX hosts ("" none). */
  caFile: string;
}

export type StsPolicy = MTASTSPolicy;

interface Cached {
  policy: StsPolicy;
  expires: number;
}

type MtaStsLib = typeof import('mailauth/lib/mta-sts.js');
let mtaStsLib: MtaStsLib | null = null;

/**
 * mailauth's MTA-STS functions, loaded with the first policy looked up: every worker of a server
 * makes the outbound worker, and mailauth's tools (joi, tldts, MIME and charset tables) are some
 * megabytes of heap in a process that may never send a message.
 */
async function loadMtaStsLib(): Promise<MtaStsLib> {
  mtaStsLib ??= await import('mailauth/lib/mta-sts.js');
  return mtaStsLib;
}

export class MtaSts {
  private readonly cache = new Map<string, Cached>();
  private readonly lookup;
  /** The CAs to trust (undefined: the system's). */
  readonly ca: Buffer | undefined;
  /** Policy fetches made (the admin API and tests read it). */
  fetches = 0;

  constructor(
    private readonly options: MtaStsOptions,
    private readonly resolver: MailResolver,
    private readonly log: Logger,
    /** Where policies are kept across restarts; null: in memory only. */
    private readonly store: Store | null = null,
  ) {
    this.lookup = authLookup(options.servers);
    this.ca = options.caFile === '' ? undefined : fs.readFileSync(options.caFile);
  }

  /** The domain's policy in force, or null when it has none (mode "none" counts as none). */
  async policyFor(domain: string, now = Date.now()): Promise<StsPolicy | null> {
    const key = domain.toLowerCase();
    const { parsePolicy, resolvePolicy } = await loadMtaStsLib();
    const cached = this.cache.get(key) ?? (await this.stored(key));
    const live = cached && cached.expires > now ? cached : null;
    let id: string | false;
    try {
      id = await resolvePolicy(key, { resolver: this.lookup as never });
    } catch (error) {
      this.log.info({ err: error, domain: key }, 'MTA-STS record lookup failed');
      return live?.policy ?? null;
    }
    if (id === false) return live?.policy ?? null;
    if (live && live.policy.id === id) return live.policy.mode === 'none' ? null : live.policy;
    try {
      const policy = { ...parsePolicy(await this.fetchPolicyText(key)), id };
      const maxAge = Math.min(policy.maxAge ?? 86_400, 31_557_600);
      this.cache.set(key, { policy, expires: now + maxAge * 1000 });
      await this.keep(key, policy, now + maxAge * 1000);
      this.log.info({ domain: key, mode: policy.mode, mx: policy.mx, maxAge }, 'MTA-STS policy fetched');
      return policy.mode === 'none' ? null : policy;
    } catch (error) {
      this.log.warn({ err: error, domain: key }, 'MTA-STS policy could not be fetched');
      return live?.policy ?? null;
    }
  }

  /** The policy the store keeps for the domain (put in memory too), or undefined. */
  private async stored(domain: string): Promise<Cached | undefined> {
    if (!this.store) return undefined;
    try {
      const kept = await this.store.getStsPolicy(domain);
      if (!kept) return undefined;
      const cached = { policy: JSON.parse(kept.policy) as StsPolicy, expires: kept.expiresAt.getTime() };
      this.cache.set(domain, cached);
      return cached;
    } catch (error) {
      this.log.warn({ err: error, domain }, 'cached MTA-STS policy could not be read');
      return undefined;
    }
  }

  /** Keeps a fetched policy in the store; one that cannot be kept still applies from memory. */
  private async keep(domain: string, policy: StsPolicy, expires: number): Promise<void> {
    try {
      await this.store?.saveStsPolicy(domain, {
        policy: JSON.stringify(policy),
        expiresAt: new Date(expires),
      });
    } catch (error) {
      this.log.warn({ err: error, domain }, 'MTA-STS policy could not be kept in the store');
    }
  }

  /** Whether an MX host name is one the policy lists (a policy from policyFor: mailauth is loaded). */
  allows(policy: StsPolicy, mx: string): boolean {
    if (!mtaStsLib) throw new Error('MtaSts.allows before any policyFor');
    return mtaStsLib.validateMx(mx, policy).valid;
  }

  private async fetchPolicyText(domain: string): Promise<string> {
    this.fetches++;
    const servername = `mta-sts.${domain}`;
    const [address] = await this.resolver.addresses(servername);
    if (!address) throw new Error(`${servername} has no address`);
    return new Promise<string>((resolve, reject) => {
      const request = https.get(
        {
          host: address,
          port: this.options.port,
          servername,
          path: '/.well-known/mta-sts.txt',
          headers: { host: servername },
          ca: this.ca,
          rejectUnauthorized: true,
          agent: false,
          timeout: FETCH_TIMEOUT_MS,
        },
        (response) => {
          if (response.statusCode !== 200) {
            response.resume();
            return reject(new Error(`policy host answered HTTP ${response.statusCode}`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_POLICY_BYTES) return request.destroy(new Error('policy too large'));
            chunks.push(chunk);
          });
          response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error('policy fetch timed out')));
      request.on('error', reject);
    });
  }
}
