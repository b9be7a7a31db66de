/**
 * The one DNS resolver of the server, on the servers of `dns.servers` (the system's when empty):
 * tests and split-horizon homes point it at a resolver of their own. It answers what mail
 * routing asks (RFC 5321 5.1): the MX hosts of a domain in preference order, and the addresses of
 * a host.
 */
import dns from 'node:dns';

export interface MxHost {
  exchange: string;
  priority: number;
}

/** How a domain receives mail. */
export type MailRoute =
  | { kind: 'hosts'; hosts: MxHost[] }
  /** The domain does not exist (NXDOMAIN): a permanent failure. */
  | { kind: 'no-domain' }
  /** RFC 7505 null MX ("MX 0 ."): the domain accepts no mail at all. */
  | { kind: 'null-mx' };

const NOT_FOUND = new Set([dns.NOTFOUND, 'ENOTFOUND']);
const NO_DATA = new Set([dns.NODATA, 'ENODATA']);

/** A resolver on `servers` (the system's when empty); each query tries `tries` times, `timeoutMs` each. */
function resolverOn(servers: readonly string[], timeoutMs: number, tries: number): dns.promises.Resolver {
  const resolver = new dns.promises.Resolver({ timeout: timeoutMs, tries });
  if (servers.length > 0) resolver.setServers([...servers]);
  return resolver;
}

function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? '';
}

export class MailResolver {
  private readonly resolver: dns.promises.Resolver;

  constructor(servers: readonly string[], timeoutMs = 5000) {
    this.resolver = resolverOn(servers, timeoutMs, 2);
  }

  /**
   * MX hosts by preference (equal preferences shuffled, RFC 5321 5.1, to spread load); a domain
   * without MX records is its own mail host (the "implicit MX"). Temporary DNS failures throw.
   */
  async route(domain: string): Promise<MailRoute> {
    let records: dns.MxRecord[];
    try {
      records = await this.resolver.resolveMx(domain);
    } catch (error) {
      if (NOT_FOUND.has(codeOf(error))) return { kind: 'no-domain' };
      if (!NO_DATA.has(codeOf(error))) throw error;
      records = [];
    }
    if (records.length === 1 && (records[0]!.exchange === '' || records[0]!.exchange === '.')) {
      return { kind: 'null-mx' };
    }
    if (records.length === 0) return { kind: 'hosts', hosts: [{ exchange: domain, priority: 0 }] };
    const shuffled = records
      .map((record) => ({ record, tiebreak: Math.random() }))
      .sort((a, b) => a.record.priority - b.record.priority || a.tiebreak - b.tiebreak)
      .map(({ record }) => ({ exchange: record.exchange, priority: record.priority }));
    return { kind: 'hosts', hosts: shuffled };
  }

  /** IPv4 then IPv6 addresses of a host; [] when it has none. */
  async addresses(host: string): Promise<string[]> {
    const lookup = async (family: 4 | 6): Promise<string[]> => {
      try {
        return family === 4 ? await this.resolver.resolve4(host) : await this.resolver.resolve6(host);
      } catch (error) {
        if (NOT_FOUND.has(codeOf(error)) || NO_DATA.has(codeOf(error))) return [];
        throw error;
      }
    };
    const [v4, v6] = await Promise.all([lookup(4), lookup(6)]);
    return [...v4, ...v6];
  }
}

/** A DNS query as mailauth makes them: records of one type, errors with dns codes (ENOTFOUND...). */
export type DnsLookup = (name: string, type: string) => Promise<string[] | string[][]>;

/**
 * Lookups for sender authentication (SPF, DKIM, DMARC, ARC) on the configured servers: mailauth
 * asks for TXT, A, AAAA, MX and PTR records and reads a failure's code (ENOTFOUND, ENODATA: no
 * record; anything else: a temporary error).
 */
export function authLookup(servers: readonly string[], timeoutMs = 5000): DnsLookup {
  const resolver = resolverOn(servers, timeoutMs, 2);
  // TXT answers are string[][], the others string[] (MX, a list of objects, is read as mailauth does).
  return (name, type) => resolver.resolve(name, type) as Promise<string[] | string[][]>;
}

/**
 * The client's name for the Received header, as Postfix records it: a PTR name that resolves back
 * to the address (forward-confirmed), else "" (Postfix's "unknown"). Quick by design: it runs
 * before the greeting, so one short try, and any failure or a timeout is just "no name".
 */
export class ReverseNames {
  private readonly resolver: dns.promises.Resolver;

  constructor(servers: readonly string[], timeoutMs = 1500) {
    this.resolver = resolverOn(servers, timeoutMs, 1);
  }

  async nameOf(address: string): Promise<string> {
    try {
      const names = await this.resolver.reverse(address);
      for (const name of names.slice(0, 4)) {
        const family = address.includes(':') ? 'AAAA' : 'A';
        const forward = await this.resolver.resolve(name, family).catch(() => [] as string[]);
        if (forward.some((ip) => sameAddress(ip, address))) return name.replace(/\.$/, '');
      }
    } catch {
      // No PTR record, a timeout, a server that is down: the client simply has no name.
    }
    return '';
  }
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
