/**
 * The domains Mallard receives mail for, to tell an unknown user (550 5.1.1) from relaying
 * (550 5.7.1) when a recipient does not resolve: the store's domain records plus our host name,
 * cached for a short while. It is only consulted for recipients that did not resolve, so accepted
 * mail never waits on it; a domain added in the panel is recognised within `ttlMs`.
 */
import { domainToASCII } from 'node:url';
import type { Store } from '../store/types.ts';

export class LocalDomains {
  private domains: Set<string> | null = null;
  private loadedAt = 0;
  private loading: Promise<Set<string>> | null = null;

  constructor(
    private readonly store: Store,
    private readonly hostname: string,
    private readonly ttlMs = 30_000,
  ) {}

  /** True for a domain with a record, or our host name (either spelling, any case). */
  async has(domain: string): Promise<boolean> {
    const lower = domain.toLowerCase().replace(/\.$/, '');
    return (await this.current()).has(domainToASCII(lower) || lower);
  }

  /** The mail domains: those with a record (the host name alone is not one). */
  async mailDomains(): Promise<string[]> {
    return (await this.store.listDomains()).map((domain) => domain.name);
  }

  private async current(): Promise<Set<string>> {
    if (this.domains && Date.now() - this.loadedAt < this.ttlMs) return this.domains;
    // One load at a time; concurrent callers share it.
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async load(): Promise<Set<string>> {
    const domains = new Set<string>([this.hostname.toLowerCase(), ...(await this.mailDomains())]);
    this.domains = domains;
    this.loadedAt = Date.now();
    return domains;
  }
}

/** The domain of an address ("" for a bare local part such as "postmaster"). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/**
 * Users and aliases go only into local domains: the domain of `address` when it has no record,
 * else null (a bare user name, with no "@", has no domain). The admin API and the CLI each say so
 * in their own words.
 */
export async function missingLocalDomain(store: Store, address: string): Promise<string | null> {
  const at = address.lastIndexOf('@');
  if (at < 0) return null;
  const domain = address
    .slice(at + 1)
    .trim()
    .toLowerCase();
  return (await store.getDomain(domain)) ? null : domain;
}
