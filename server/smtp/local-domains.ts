/**
 * The domains Mallard receives mail for, to tell an unknown user (550 5.1.1) from relaying
 * (550 5.7.1) when a recipient does not resolve. The store contract has no "domains" query, so the
 * set is built from every user's addresses (primary, aliases, catch-alls) plus our host name, and
 * cached for a short while. It is only consulted for recipients that did not resolve, so accepted
 * mail never waits on it; a domain added in the panel is recognised within `ttlMs`.
 */
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

  /** True when some user, alias or catch-all has an address in `domain` (case-insensitive). */
  async has(domain: string): Promise<boolean> {
    return (await this.current()).has(domain.toLowerCase());
  }

  /** The mail domains: those of users, aliases and catch-alls (the host name alone is not one). */
  async mailDomains(): Promise<string[]> {
    const domains = new Set<string>();
    const { users } = await this.store.listUsers();
    for (const user of users) {
      addDomainOf(domains, user.username);
      for (const address of await this.store.listAddresses(user.id)) addDomainOf(domains, address.address);
    }
    return [...domains].sort();
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
    const domains = new Set<string>([this.hostname.toLowerCase()]);
    const { users } = await this.store.listUsers();
    for (const user of users) {
      addDomainOf(domains, user.username);
      for (const address of await this.store.listAddresses(user.id)) addDomainOf(domains, address.address);
    }
    this.domains = domains;
    this.loadedAt = Date.now();
    return domains;
  }
}

function addDomainOf(domains: Set<string>, address: string): void {
  const at = address.lastIndexOf('@');
  if (at >= 0 && at < address.length - 1) domains.add(address.slice(at + 1).toLowerCase());
}

/** The domain of an address ("" for a bare local part such as "postmaster"). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}
